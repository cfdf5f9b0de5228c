// Batches written on two connections at once: a key repeated in the next batch (or any later one)
// is still imported from its first row in file order, and every later row with it is rejected;
// customers and orders alike; the counts add up.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../pipeline/customers/import/run-import.ts';
import { parseRejects, tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

describe('an import written on two connections', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = tempDir();
  });
  afterAll(() => db.drop());

  it('keeps the first row of a key in file order, whichever connection gets to it first', async () => {
    // 3,000 rows in batches of 40: every 7th row repeats the key of a row 1 to 60 rows earlier,
    // so repeats land in the same batch, the next one (written at the same time) and later ones.
    const lines = ['external_id,full_name'];
    const first = new Map<string, string>();
    const repeats = new Set<number>();
    for (let i = 1; i <= 3000; i++) {
      const row = i + 1;
      if (i % 7 === 0 && i > 60) {
        let j = i - 1 - (i % 60);
        while (!first.has(`T${j}`)) j--;
        const key = `T${j}`;
        lines.push(`${key},repeat of ${key} at row ${row}`);
        repeats.add(row);
      } else {
        lines.push(`T${i},first ${i}`);
        first.set(`T${i}`, `first ${i}`);
      }
    }
    const file = join(dir, 'repeats.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const summary = await runImport(db.sql, { kind: 'customers', file, batchSize: 40, connections: 2 });
    expect(summary).toMatchObject({ read: 3000, inserted: first.size, updated: 0, rejected: repeats.size });
    const stored = await db.sql<{ external_id: string; full_name: string }[]>`
      select external_id, full_name from customers where external_id like 'T%'`;
    expect(new Map(stored.map((r) => [r.external_id, r.full_name]))).toEqual(first);
    const rejects = parseRejects(readFileSync(summary.rejectsPath!, 'utf8'));
    expect(new Set(rejects.map((r) => Number(r.row)))).toEqual(repeats);
    for (const r of rejects) expect(r.reason).toMatch(/appears on an earlier row of this file, which was imported/);

    // Again, over the stored customers: every first row updates, every repeat is rejected.
    const again = await runImport(db.sql, { kind: 'customers', file, batchSize: 40, connections: 2 });
    expect(again).toMatchObject({ read: 3000, inserted: 0, updated: first.size, rejected: repeats.size });
    const after = await db.sql<{ external_id: string; full_name: string }[]>`
      select external_id, full_name from customers where external_id like 'T%'`;
    expect(new Map(after.map((r) => [r.external_id, r.full_name]))).toEqual(first);
  });

  it('does the same for orders, with orders of unknown customers rejected as such', async () => {
    const lines = ['order_ref,customer_external_id,amount,occurred_at'];
    const first = new Map<string, string>();
    const refused = new Map<number, RegExp>();
    for (let i = 1; i <= 1200; i++) {
      const row = i + 1;
      if (i % 9 === 0 && i > 30) {
        let j = i - 1 - (i % 30);
        while (!first.has(`O${j}`)) j--;
        const ref = `O${j}`;
        lines.push(`${ref},T1,999.00,2026-06-01T10:00:00+08:00`);
        refused.set(row, /order_ref: "O\d+" appears on an earlier row of this file/);
      } else if (i % 50 === 0) {
        lines.push(`O${i},NOBODY,1.00,2026-06-01T10:00:00+08:00`);
        refused.set(row, /customer_external_id: "NOBODY" matches no customer/);
      } else {
        lines.push(`O${i},T${1 + (i % 50)},${i}.50,2026-06-01T10:00:00+08:00`);
        first.set(`O${i}`, `${i}.50`);
      }
    }
    const file = join(dir, 'orders.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const summary = await runImport(db.sql, { kind: 'orders', file, batchSize: 25, connections: 2 });
    expect(summary).toMatchObject({ read: 1200, inserted: first.size, updated: 0, rejected: refused.size });
    const stored = await db.sql<{ order_ref: string; amount: string }[]>`
      select order_ref, amount::text from orders where order_ref like 'O%'`;
    expect(new Map(stored.map((r) => [r.order_ref, r.amount]))).toEqual(first);
    const rejects = parseRejects(readFileSync(summary.rejectsPath!, 'utf8'));
    expect(new Set(rejects.map((r) => Number(r.row)))).toEqual(new Set(refused.keys()));
    for (const r of rejects) expect(r.reason).toMatch(refused.get(Number(r.row))!);
  });
});
