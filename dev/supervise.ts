// Keeps a child of the dev stack running: when it dies (kill -9, a crash, an OOM kill) it is
// started again the same way (same port, same data) after a pause that doubles with each death.
// A child that keeps dying is given up on, so that a broken one does not loop forever: the
// stack then says why and stops.
import { logTail, type ManagedChild } from './child-process.ts';

export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; one more death than that gives up. */
  maxRestarts: number;
  windowMs: number;
  /** The pause before the first restart; it doubles for each further death in the window. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 5 * 60_000,
  firstDelayMs: 1000,
  maxDelayMs: 30_000,
};

/** How to run the child again: start it, then wait until it serves (throws when it does not). */
export interface Respawn {
  spawn(): ManagedChild;
  ready(child: ManagedChild): Promise<void>;
}

export interface SupervisedChild {
  /** The running child (a new one after each restart). */
  readonly child: ManagedChild;
  /** Resolves with the reason when the child is given up on; never resolves otherwise. */
  gaveUp: Promise<string>;
  stop(graceMs?: number): Promise<void>;
}

export function supervise(
  first: ManagedChild,
  opts: {
    /** What the log lines call it: "the worker", "PostgreSQL on port 54329". */
    what: string;
    respawn: Respawn;
    say: (line: string) => void;
    /** Called with each new child once it serves (to record its pid, say). */
    onRestarted?: (child: ManagedChild) => void;
    policy?: RestartPolicy;
  },
): SupervisedChild {
  const policy = opts.policy ?? DEFAULT_RESTART_POLICY;
  const say = (line: string) => opts.say(line.charAt(0).toUpperCase() + line.slice(1));
  let current = first;
  let stopping = false;
  let wake: () => void = () => {};
  const deaths: number[] = [];

  const gaveUp = new Promise<string>((resolveGaveUp) => {
    void (async () => {
      for (;;) {
        await current.exited;
        if (stopping) return;
        const how = current.exitDescription() ?? 'an unknown cause';
        const now = Date.now();
        deaths.push(now);
        while (deaths.length && deaths[0]! < now - policy.windowMs) deaths.shift();
        const minutes = Math.round(policy.windowMs / 60_000);
        if (deaths.length > policy.maxRestarts) {
          resolveGaveUp(
            `${opts.what.charAt(0).toUpperCase()}${opts.what.slice(1)} exited (${how}) ${deaths.length} times within ${minutes} min; not restarting it again. Last lines of ${current.logPath}:\n${logTail(current.logPath)}`,
          );
          return;
        }
        const delay = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (deaths.length - 1));
        say(
          `${opts.what} exited (${how}); restarting it in ${delay / 1000} s (restart ${deaths.length} of at most ${policy.maxRestarts} within ${minutes} min). Its log: ${current.logPath}`,
        );
        await new Promise<void>((resolveWait) => {
          const timer = setTimeout(resolveWait, delay);
          wake = () => {
            clearTimeout(timer);
            resolveWait();
          };
        });
        if (stopping) return;
        const child = opts.respawn.spawn();
        current = child;
        try {
          await opts.respawn.ready(child);
        } catch (error) {
          if (stopping) return;
          // Not serving: stop what is left of it; the loop counts it as another death.
          say(`${opts.what} did not come back: ${(error as Error).message.split(/\. Last lines|\n/)[0]}.`);
          await child.stop(5000);
          continue;
        }
        if (stopping) return;
        say(`${opts.what} is running again (pid ${child.process.pid}).`);
        opts.onRestarted?.(child);
      }
    })();
  });

  return {
    get child() {
      return current;
    },
    gaveUp,
    async stop(graceMs?: number) {
      stopping = true;
      wake();
      await current.stop(graceMs);
    },
  };
}
