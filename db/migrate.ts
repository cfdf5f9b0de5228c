// Applies db/migrations/*.sql in name order, each once, in its own transaction, recorded with a
// checksum. An applied migration that was edited afterwards is refused: add a new one instead.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, UserError } from '../config/errors.ts';
import type { Sql } from './connection.ts';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
const NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;
// Any constant works; it only has to be the same for every Mailroom process.
const LOCK_KEY = 7_305_002_001;

export interface MigrationFile {
  name: string;
  path: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

export function migrationFiles(dir = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => {
      if (!NAME.test(name)) throw new Error(`migration file ${join(dir, name)} must be named NNNN_words.sql`);
      const path = join(dir, name);
      return { name, path, checksum: createHash('sha256').update(readFileSync(path)).digest('hex') };
    });
}

export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = migrationFiles(dir);
  const conn = await sql.reserve();
  try {
    // Several processes (tests, worker, CLI) may start at once; one migrates, the others wait.
    await conn`select pg_advisory_lock(${LOCK_KEY})`;
    await conn`
      create table if not exists schema_migrations (
        name text primary key,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`;
    const rows = await conn<
      { name: string; checksum: string; applied_at: Date }[]
    >`select name, checksum, applied_at from schema_migrations`;
    const applied = new Map(rows.map((r) => [r.name, r]));
    const known = new Set(files.map((f) => f.name));
    for (const row of rows) {
      if (!known.has(row.name)) {
        throw new UserError(
          `the database has migration ${row.name}, which this version of Mailroom does not have. Upgrade Mailroom, or point DATABASE_URL at another database.`,
          ExitCode.failure,
        );
      }
    }
    const result: MigrationResult = { applied: [], alreadyApplied: 0 };
    for (const file of files) {
      const done = applied.get(file.name);
      if (done) {
        if (done.checksum !== file.checksum) {
          throw new UserError(
            `migration ${file.name} was changed after it was applied (on ${done.applied_at.toISOString()}). Restore the original file and put the change in a new migration.`,
            ExitCode.failure,
          );
        }
        result.alreadyApplied++;
        continue;
      }
      // Plain BEGIN/COMMIT on the reserved connection, which also holds the advisory lock.
      await conn`begin`;
      try {
        await conn.file(file.path);
        await conn`insert into schema_migrations (name, checksum) values (${file.name}, ${file.checksum})`;
        await conn`commit`;
      } catch (error) {
        await conn`rollback`;
        throw new Error(`migration ${file.name} failed: ${(error as Error).message}`, { cause: error });
      }
      result.applied.push(file.name);
    }
    return result;
  } finally {
    await conn`select pg_advisory_unlock(${LOCK_KEY})`.catch(() => {});
    conn.release();
  }
}
