// Writes N synthetic customers (with orders, consents and a few suppressions) through the same
// COPY staging and set-based upserts the CSV import uses (pipeline/customers/import/stage.ts).
// Running it again with the same seed updates the same customers.
import type { Sql } from '../../db/connection.ts';
import type { Reserved } from '../../pipeline/customers/import/copy-stage.ts';
import { customerCopyLine, orderCopyLine, StagedWriter } from '../../pipeline/customers/import/stage.ts';
import { generateCustomer, type SeedCustomer } from './generate.ts';

export interface SeedOptions {
  customers: number;
  seed: number;
  asOf?: Date;
  batchSize?: number;
  onProgress?: (done: number) => void;
}

export interface SeedSummary {
  customers: number;
  inserted: number;
  updated: number;
  orders: number;
  suppressions: number;
  seed: number;
  seconds: number;
}

async function writeSuppressions(sql: Reserved, batch: SeedCustomer[]): Promise<number> {
  const rows = batch.flatMap((c) =>
    c.suppression
      ? [
          {
            external_id: c.record.external_id,
            channel: c.suppression.channel,
            reason: c.suppression.reason,
            address: c.suppression.byAddress
              ? ((c.suppression.channel === 'email' ? c.record.email : c.record.phone) ?? null)
              : null,
          },
        ]
      : [],
  );
  if (!rows.length) return 0;
  const written = await sql`
    insert into suppressions (channel, customer_id, address, reason, source)
    select v.channel, case when v.address is null then c.id end, v.address, v.reason, 'seed'
    from jsonb_to_recordset(${sql.json(rows as never)}::jsonb) as v(external_id text, channel text, reason text, address text)
    join customers c on c.external_id = v.external_id
    on conflict on constraint suppressions_key do nothing`;
  return written.count;
}

export async function runSeed(sql: Sql, opts: SeedOptions): Promise<SeedSummary> {
  const started = Date.now();
  const asOf = opts.asOf ?? new Date();
  const batchSize = opts.batchSize ?? 1000;
  const [imp] = await sql<
    { id: number }[]
  >`insert into imports (kind, source) values ('seed', ${`seed ${opts.seed}`}) returning id`;
  const summary: SeedSummary = {
    customers: opts.customers,
    inserted: 0,
    updated: 0,
    orders: 0,
    suppressions: 0,
    seed: opts.seed,
    seconds: 0,
  };
  // One connection holds both staging tables and writes the suppressions.
  const conn = await sql.reserve();
  try {
    const writerOpts = { source: `seed:${opts.seed}`, timezone: 'UTC' };
    const customers = await StagedWriter.on(conn, 'customers', imp!.id, writerOpts);
    const orders = await StagedWriter.on(conn, 'orders', imp!.id, writerOpts);
    for (let start = 1; start <= opts.customers; start += batchSize) {
      const batch: SeedCustomer[] = [];
      for (let i = start; i < start + batchSize && i <= opts.customers; i++)
        batch.push(generateCustomer(opts.seed, i, asOf));
      const written = await customers.write(batch.map((c, k) => customerCopyLine(c.record, start + k) + '\n').join(''));
      summary.inserted += written.inserted;
      summary.updated += written.updated;
      const orderLines = batch.flatMap((c) => c.orders).map((o, k) => orderCopyLine(o, k) + '\n');
      for (let o = 0; o < orderLines.length; o += 5000) {
        const w = await orders.write(orderLines.slice(o, o + 5000).join(''));
        summary.orders += w.inserted + w.updated;
      }
      summary.suppressions += await writeSuppressions(conn, batch);
      opts.onProgress?.(Math.min(start + batchSize - 1, opts.customers));
    }
  } finally {
    await conn`discard temp`.catch(() => {});
    conn.release();
  }
  summary.seconds = (Date.now() - started) / 1000;
  await sql`update imports set finished_at = now(), read = ${opts.customers}, inserted = ${summary.inserted}, updated = ${summary.updated} where id = ${imp!.id}`;
  return summary;
}
