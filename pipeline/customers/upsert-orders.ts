// Writes a batch of orders by order_ref, resolving each customer by external_id. Naive times are
// read in the import's time zone. An order already written by the same import is a duplicate.
import type { Sql } from '../../db/connection.ts';
import type { OrderRecord } from './records.ts';

export type OrderOutcome = 'inserted' | 'updated' | 'duplicate' | 'unknown_customer';

export async function upsertOrders(
  sql: Sql,
  records: OrderRecord[],
  importId: number,
  timezone: string,
): Promise<OrderOutcome[]> {
  if (!records.length) return [];
  const rows = records.map((r, n) => ({ ...r, n }));
  const written = await sql<{ order_ref: string; outcome: OrderOutcome }[]>`
    with input as (
      select * from jsonb_to_recordset(${sql.json(rows as never)}::jsonb) as x(
        n int, order_ref text, customer_external_id text, amount numeric, currency text, occurred_at text, channel text)
    ),
    resolved as (
      select i.*, c.id as customer_id,
        case when i.occurred_at ~ '(Z|[+-][0-9]{2}:[0-9]{2})$' then i.occurred_at::timestamptz
             else i.occurred_at::timestamp at time zone ${timezone} end as occurred
      from input i left join customers c on c.external_id = i.customer_external_id
    ),
    updated as (
      update orders o set customer_id = r.customer_id, amount = r.amount, currency = r.currency,
        occurred_at = r.occurred, channel = coalesce(r.channel, o.channel), last_import_id = ${importId}
      from resolved r
      where o.order_ref = r.order_ref and r.customer_id is not null and o.last_import_id is distinct from ${importId}
      returning o.order_ref, 'updated' as outcome
    ),
    inserted as (
      insert into orders (customer_id, order_ref, amount, currency, occurred_at, channel, last_import_id)
      select r.customer_id, r.order_ref, r.amount, r.currency, r.occurred, r.channel, ${importId}
      from resolved r
      where r.customer_id is not null and not exists (select 1 from orders o where o.order_ref = r.order_ref)
      order by r.n
      on conflict (order_ref) do nothing
      returning order_ref, 'inserted' as outcome
    )
    select order_ref, outcome from updated
    union all select order_ref, outcome from inserted
    union all select order_ref, 'unknown_customer' from resolved where customer_id is null`;
  const outcome = new Map(written.map((w) => [w.order_ref, w.outcome]));
  return records.map((r) => outcome.get(r.order_ref) ?? 'duplicate');
}
