// A long-running child process of the dev stack: output to a log file, readiness polling that
// notices an early exit, and a stop that escalates from SIGTERM to SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ManagedChild {
  name: string;
  process: ChildProcess;
  logPath: string;
  exited: Promise<number | null>;
  /** How it ended, for a log line: "code 1", "signal SIGKILL"; undefined while it runs. */
  exitDescription(): string | undefined;
  stop(graceMs?: number): Promise<void>;
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  opts: {
    logPath: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    uid?: number;
    gid?: number;
    stopSignal?: NodeJS.Signals;
  },
): ManagedChild {
  mkdirSync(dirname(opts.logPath), { recursive: true });
  const fd = openSync(opts.logPath, 'a');
  const child = spawn(command, args, {
    stdio: ['ignore', fd, fd],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
  });
  closeSync(fd);
  let exitCode: number | null | undefined;
  let exitDescription: string | undefined;
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? 128 : null);
      exitDescription = signal ? `signal ${signal}` : `code ${code}`;
      resolveExit(exitCode);
    });
    child.once('error', (error) => {
      exitCode = 127;
      exitDescription = `an error: ${error.message}`;
      resolveExit(127);
    });
  });
  return {
    name,
    process: child,
    logPath: opts.logPath,
    exited,
    exitDescription: () => exitDescription,
    async stop(graceMs = 10_000) {
      if (exitCode !== undefined) return;
      child.kill(opts.stopSignal ?? 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function logTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `probe` until it resolves true; fails if the child exits first or the limit passes. */
export async function waitUntilReady(
  child: ManagedChild,
  probe: () => Promise<boolean>,
  opts: { limitMs: number; say?: (line: string) => void; what: string },
): Promise<void> {
  const started = Date.now();
  let exited = false;
  void child.exited.then(() => (exited = true));
  let lastNote = started;
  while (Date.now() - started < opts.limitMs) {
    if (exited) {
      throw new Error(
        `${opts.what} exited before it was ready. Last lines of ${child.logPath}:\n${logTail(child.logPath)}`,
      );
    }
    if (await probe().catch(() => false)) return;
    if (opts.say && Date.now() - lastNote > 10_000) {
      opts.say(`  …waiting for ${opts.what} (${Math.round((Date.now() - started) / 1000)} s)`);
      lastNote = Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${opts.what} did not answer within ${opts.limitMs / 1000} s. Last lines of ${child.logPath}:\n${logTail(child.logPath)}`,
  );
}
