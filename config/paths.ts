// Where Mailroom keeps its state: `.mailroom/` for this checkout's data (Postgres files,
// Temporal history, outbox, logs) and a per-user cache for built tools reused across clones.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
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

export function mailroomPaths(env = readEnv()): Paths {
  const home = resolve(env.MAILROOM_HOME ?? join(process.cwd(), '.mailroom'));
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
