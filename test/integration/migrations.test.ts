import { cpSync, mkdtempSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../db/connection.ts';
import { MIGRATIONS_DIR, migrate, migrationFiles } from '../../db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db.drop());

  it('apply every file once, in order, even when several processes migrate at once', async () => {
    const others = [connectDatabase(db.url, { max: 1 }), connectDatabase(db.url, { max: 1 })];
    const results = await Promise.all([migrate(db.sql), ...others.map((sql) => migrate(sql))]);
    await Promise.all(others.map((sql) => sql.end()));
    const files = migrationFiles().map((f) => f.name);
    expect(results.flatMap((r) => r.applied)).toEqual(files);
    expect((await migrate(db.sql)).applied).toEqual([]);
    const rows = await db.sql<{ name: string }[]>`select name from schema_migrations order by name`;
    expect(rows.map((r) => r.name)).toEqual(files);
  });

  it('create the customer database with its keys and uniqueness rules', async () => {
    const constraints = await db.sql<{ conname: string }[]>`
      select conname from pg_constraint where contype = 'u' order by conname`;
    expect(constraints.map((c) => c.conname)).toEqual(
      expect.arrayContaining([
        'customers_external_id_key',
        'orders_order_ref_key',
        'campaigns_slug_key',
        'campaign_members_response_code_key',
        'deliveries_key',
        'responses_dedupe_key',
        'suppressions_key',
      ]),
    );
    const [c] = await db.sql<
      { id: number }[]
    >`insert into customers (external_id, full_name) values ('U1', '王晓明') returning id`;
    await expect(db.sql`insert into customers (external_id, full_name) values ('U1', 'again')`).rejects.toThrow(
      /customers_external_id_key/,
    );
    await expect(
      db.sql`insert into customers (external_id, full_name, phone) values ('U2', 'x', '13912345678')`,
    ).rejects.toThrow(/phone_check/);
    const [camp] = await db.sql<
      { id: number }[]
    >`insert into campaigns (slug, name, spec, workflow_id) values ('spring', 'Spring', '{}', 'campaign-spring') returning id`;
    await db.sql`insert into deliveries (campaign_id, wave, customer_id, channel) values (${camp!.id}, 'letter', ${c!.id}, 'mail')`;
    await expect(
      db.sql`insert into deliveries (campaign_id, wave, customer_id, channel) values (${camp!.id}, 'letter', ${c!.id}, 'mail')`,
    ).rejects.toThrow(/deliveries_key/);
  });

  it('refuse a migration that was changed after it was applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const first = migrationFiles(dir)[0]!;
    appendFileSync(first.path, '\n-- edited later\n');
    await expect(migrate(db.sql, dir)).rejects.toThrow(
      new RegExp(`migration ${first.name} was changed after it was applied.*new migration`),
    );
  });

  it('refuse a database that has migrations this version does not know', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    writeFileSync(join(dir, '9999_future.sql'), 'create table future_things (id int);');
    expect((await migrate(db.sql, dir)).applied).toEqual(['9999_future.sql']);
    await expect(migrate(db.sql)).rejects.toThrow(
      /has migration 9999_future.sql, which this version of Mailroom does not have/,
    );
  });
});
