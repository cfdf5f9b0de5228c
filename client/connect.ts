// How a command finds its services: DATABASE_URL / TEMPORAL_ADDRESS first, then the running dev
// stack. A database command with neither starts the embedded PostgreSQL for its own duration.
import { Client, Connection } from '@temporalio/client';
import { readEnv, trackingUrlIsSet, type Env } from '../config/env.ts';
import { mailroomPaths, type Paths } from '../config/paths.ts';
import { clientConnectionOptions, temporalTargetFromEnv, type TemporalTarget } from '../config/temporal.ts';
import { connectDatabase, type Sql } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { startEmbeddedPostgres } from '../dev/postgres.ts';
import { readStackState } from '../dev/stack-state.ts';
import { ExitCode, UserError } from '../config/errors.ts';

export interface Context {
  env: Env;
  paths: Paths;
  say: (line: string) => void;
}

export function context(opts: { quiet?: boolean } = {}): Context {
  let env = readEnv();
  const paths = mailroomPaths(env);
  // Links rendered here (proofs, print files) point at the running stack's tracking server, which
  // may have had to take another port than 8088, unless MAILROOM_TRACKING_URL says otherwise.
  const tracking = trackingUrlIsSet() ? undefined : readStackState(paths)?.tracking;
  if (tracking) env = { ...env, MAILROOM_TRACKING_URL: tracking.url };
  return { env, paths, say: opts.quiet ? () => {} : (line) => process.stderr.write(`${line}\n`) };
}

/** Runs `fn` with a migrated database connection, starting the embedded server if need be. */
export async function withDatabase<T>(
  ctx: Context,
  fn: (sql: Sql, url: string) => Promise<T>,
  opts: { max?: number } = {},
): Promise<T> {
  let url = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
  let stopServer: (() => Promise<void>) | undefined;
  if (!url) {
    ctx.say('No DATABASE_URL and no running `mailroom dev`: starting the embedded PostgreSQL for this command.');
    const pg = await startEmbeddedPostgres(ctx.paths, ctx.say);
    url = pg.url;
    stopServer = () => pg.child.stop();
  }
  const sql = connectDatabase(url, { max: opts.max ?? 4 });
  try {
    await sql`select 1`.catch((error: Error) => {
      const hint = ctx.env.DATABASE_URL
        ? 'Check DATABASE_URL, or unset it to use the embedded PostgreSQL.'
        : 'Is the `mailroom dev` stack still running? See `mailroom dev status`.';
      throw new UserError(
        `cannot connect to PostgreSQL (${redactUrl(url!)}): ${error.message}. ${hint}`,
        ExitCode.unavailable,
      );
    });
    await migrate(sql);
    return await fn(sql, url);
  } finally {
    await sql.end({ timeout: 5 });
    await stopServer?.();
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):.*@/, '//$1:***@');
  }
}

export function resolveTemporal(ctx: Context): TemporalTarget {
  if (ctx.env.TEMPORAL_ADDRESS) return temporalTargetFromEnv(ctx.env, ctx.env.TEMPORAL_ADDRESS);
  const state = readStackState(ctx.paths);
  if (state)
    return temporalTargetFromEnv(
      { ...ctx.env, TEMPORAL_NAMESPACE: state.temporal.namespace, TEMPORAL_TASK_QUEUE: state.temporal.taskQueue },
      state.temporal.address,
    );
  throw new UserError(
    'No Temporal to talk to: start the embedded stack with `mailroom dev --detach` (or `mailroom dev` in another terminal), or set TEMPORAL_ADDRESS.',
    ExitCode.unavailable,
  );
}

export async function withTemporalClient<T>(
  ctx: Context,
  fn: (client: Client, target: TemporalTarget) => Promise<T>,
): Promise<T> {
  const target = resolveTemporal(ctx);
  const connection = await Connection.connect({ ...clientConnectionOptions(target), connectTimeout: 5000 }).catch(
    (error: Error) => {
      throw new UserError(`cannot connect to Temporal at ${target.address}: ${error.message}`, ExitCode.unavailable);
    },
  );
  try {
    return await fn(new Client({ connection, namespace: target.namespace }), target);
  } finally {
    await connection.close();
  }
}
