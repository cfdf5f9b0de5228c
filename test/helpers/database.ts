// A fresh, migrated database per test file on the run's PostgreSQL server, dropped afterwards.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { connectDatabase, type Sql } from '../../db/connection.ts';
import { migrate } from '../../db/migrate.ts';

export interface TestDatabase {
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = inject('databaseUrl');
  const name = `mailroom_test_${randomBytes(5).toString('hex')}`;
  const admin = connectDatabase(withDatabaseName(serverUrl, 'postgres'), { max: 1 });
  await admin`create database ${admin(name)}`;
  const url = withDatabaseName(serverUrl, name);
  const sql = connectDatabase(url, { max: 4 });
  if (opts.migrate !== false) await migrate(sql);
  return {
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.end();
    },
  };
}
