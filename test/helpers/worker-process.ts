// `mailroom worker` as a separate process, which a test can kill outright (SIGKILL) the way a
// machine dies: no shutdown, no finally blocks, connections cut mid-message.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/mailroom.mjs', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote, for a failing test's message. */
  output(): string;
  /** Resolves once the worker has logged that it polls its task queue. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    // Only what is given here reaches the worker's configuration: no Twilio or SMTP of the caller.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'info',
      TWILIO_ACCOUNT_SID: '',
      TWILIO_AUTH_TOKEN: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.includes('worker started')) resolveReady();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => {
      rejectReady(new Error(`worker ${child.pid} exited (${code ?? signal}) before it started:\n${out}`));
      res({ code, signal });
    });
  });
  ready.catch(() => {}); // observed by whoever awaits it
  return {
    child,
    pid: child.pid!,
    output: () => out,
    ready,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
