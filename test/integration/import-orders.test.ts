import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { parseRejects, tempDir, writeCsv } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

describe('mailroom import orders', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = tempDir();
    await db.sql`insert into customers (external_id, full_name) values ('C1', '王晓明'), ('C2', 'Emma Wright')`;
  });
  afterAll(() => db.drop());

  it('upserts orders by order_ref, reads naive times in the import time zone and keeps amounts exact', async () => {
    const file = writeCsv(dir, 'orders.csv', [
      ['订单号', '客户编号', '金额', '下单时间', '渠道'],
      ['O1', 'C1', '¥1,299.90', '2026-03-01 09:30', 'store'],
      ['O2', 'C2', '0.10', '2026-03-01T01:30:00Z', 'online'],
      ['O3', 'C1', '-50.00', '2026/03/02', ''],
      ['O4', 'NOBODY', '10', '2026-03-02', ''],
      ['O5', 'C1', '12.345', '2026-03-02', ''],
      ['O1', 'C1', '1', '2026-03-03', ''],
      ['O6', 'C2', '10', 'yesterday', ''],
      ['O7', 'C2', '1234567890123', '2026-03-02', ''],
    ]);
    const run = await runCli(['import', 'orders', file, '--timezone', 'Asia/Shanghai', '--json'], {
      DATABASE_URL: db.url,
    });
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ read: 8, inserted: 3, updated: 0, rejected: 5 });
    const rows = await db.sql`
      select o.order_ref, c.external_id, o.amount, o.currency, o.channel, to_char(o.occurred_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as utc
      from orders o join customers c on c.id = o.customer_id order by o.order_ref`;
    expect(rows.map((r) => [r.order_ref, r.external_id, r.amount, r.currency, r.channel, r.utc])).toEqual([
      ['O1', 'C1', '1299.90', 'CNY', 'store', '2026-03-01 01:30'],
      ['O2', 'C2', '0.10', 'CNY', 'online', '2026-03-01 01:30'],
      ['O3', 'C1', '-50.00', 'CNY', null, '2026-03-01 16:00'],
    ]);
    const reasons = Object.fromEntries(
      parseRejects(readFileSync(summary.rejectsPath, 'utf8')).map((r) => [r.row, r.reason]),
    );
    expect(reasons['5']).toBe('customer_external_id: "NOBODY" matches no customer; import the customer first');
    expect(reasons['6']).toBe('amount (column "金额"): "12.345" has more than 2 decimal places');
    expect(reasons['7']).toMatch(/order_ref: "O1" appears on an earlier row of this file/);
    expect(reasons['8']).toMatch(/occurred_at \(column "下单时间"\): "yesterday" is not a date-time/);
    // Too large for the column: rejected with its row, instead of failing the batch in PostgreSQL.
    expect(reasons['9']).toMatch(/amount \(column "金额"\): "1234567890123" is too large \(at most 12 digits/);
  });

  it('updates an order imported earlier when a later file sends it again', async () => {
    const file = writeCsv(dir, 'again.csv', [
      ['order_ref', 'external_id', 'amount', 'date'],
      ['O2', 'C2', '0.20', '2026-03-01'],
    ]);
    const run = await runCli(['import', 'orders', file, '--json'], { DATABASE_URL: db.url });
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 1, inserted: 0, updated: 1, rejected: 0 });
    const [o] = await db.sql`select amount from orders where order_ref = 'O2'`;
    expect(o!.amount).toBe('0.20');
  });
});
