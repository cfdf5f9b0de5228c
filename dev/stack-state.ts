// The running dev stack, recorded in .mailroom/stack.json so that CLI commands, tests and scripts
// find it. A record whose supervisor process is gone is stale and ignored.
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Paths } from '../config/paths.ts';

export const stackStateSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  home: z.string(),
  databaseUrl: z.string(),
  database: z.enum(['embedded', 'DATABASE_URL']),
  temporal: z.object({
    address: z.string(),
    namespace: z.string(),
    taskQueue: z.string(),
    uiUrl: z.string().optional(),
    source: z.string(),
    binary: z.string().optional(),
  }),
  workerPid: z.number().int().optional(),
  /** The embedded servers' processes (they change when the stack restarts one that died). */
  temporalPid: z.number().int().optional(),
  postgresPid: z.number().int().optional(),
  /** The embedded SMTP sink, when SMTP_URL is not set. */
  smtp: z.object({ url: z.string(), lookupUrl: z.string().optional(), outbox: z.string() }).optional(),
  /** SMTP_URL (and SMTP_LOOKUP_URL) the stack's worker sends through, when set. */
  smtpUrl: z.string().optional(),
  smtpLookupUrl: z.string().optional(),
  /** The Twilio sandbox, when no Twilio credentials are set. */
  sms: z.object({ url: z.string(), accountSid: z.string(), authToken: z.string(), outbox: z.string() }).optional(),
  /** The tracking server: where it listens, and the URL messages link to (MAILROOM_TRACKING_URL). */
  tracking: z.object({ listen: z.string(), url: z.string() }).optional(),
  logs: z.string(),
  /** Remembered ports that were taken by another process at start, and where the parts went instead. */
  portNotes: z.array(z.string()).optional(),
});

export type StackState = z.infer<typeof stackStateSchema>;

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The recorded stack, whether or not its supervisor still runs. */
export function readStackStateFile(paths: Paths): StackState | undefined {
  if (!existsSync(paths.stackState)) return undefined;
  try {
    return stackStateSchema.parse(JSON.parse(readFileSync(paths.stackState, 'utf8')));
  } catch {
    return undefined;
  }
}

export function readStackState(paths: Paths): StackState | undefined {
  const state = readStackStateFile(paths);
  return state && processAlive(state.pid) ? state : undefined;
}

export function writeStackState(paths: Paths, state: StackState): void {
  mkdirSync(dirname(paths.stackState), { recursive: true });
  writeFileSync(paths.stackState, JSON.stringify(state, null, 2), { mode: 0o600 });
}

export function removeStackState(paths: Paths, pid = process.pid): void {
  const current = existsSync(paths.stackState) ? readFileSync(paths.stackState, 'utf8') : '';
  if (current.includes(`"pid": ${pid},`)) rmSync(paths.stackState, { force: true });
}
