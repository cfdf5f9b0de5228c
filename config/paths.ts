// Where Mailroom keeps its state: `.mailroom/` for this checkout's data (Postgres files,
// Temporal history, outbox, logs) and a per-user cache for built tools reused across clones.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEnv } from './env.ts';

export interface Paths {
  home: string;
  pgData: string;
  pgConfig: string;
  temporalDb: string;
  logs: string;
  stackState: string;
  outbox: string;
  smsOutbox: string;
  /** Print jobs of campaign mail waves: <print>/<campaign>/<wave>/. */
  print: string;
  cache: string;
  cacheBin: string;
}

/** The checkout this code runs from. */
const CHECKOUT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Where the stack lives when MAILROOM_HOME does not say: the `.mailroom` of the current folder or of
 * a folder above it (as git finds `.git`), else this checkout's. A script run from another folder
 * (the typed client) thus finds the stack the CLI started.
 */
function defaultHome(): string {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.mailroom'))) return join(dir, '.mailroom');
    if (dirname(dir) === dir) return join(CHECKOUT, '.mailroom');
  }
}

export function mailroomPaths(env = readEnv()): Paths {
  const home = resolve(env.MAILROOM_HOME ?? defaultHome());
  const cache = resolve(
    env.MAILROOM_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mailroom'),
  );
  return {
    home,
    pgData: join(home, 'pg'),
    pgConfig: join(home, 'pg.json'),
    temporalDb: join(home, 'temporal', 'history.db'),
    logs: join(home, 'logs'),
    stackState: join(home, 'stack.json'),
    outbox: join(home, 'outbox'),
    smsOutbox: join(home, 'sms-outbox'),
    print: resolve(env.MAILROOM_PRINT_DIR ?? join(home, 'print')),
    cache,
    cacheBin: join(cache, 'bin'),
  };
}
