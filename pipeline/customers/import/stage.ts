// Writes validated rows through COPY into a temporary staging table and applies each batch with
// set-based statements: customers (and their consents) or orders upserted by key, with exact
// counts of inserted and updated rows and the row numbers of those refused (a key named twice in
// the file; an order whose customer is unknown). The staging table lives on one reserved
// connection for the whole import and is emptied after each batch.
import type { Sql } from '../../../db/connection.ts';
import type { CustomerRecord, OrderRecord } from '../records.ts';
import { copyValue, CopyStage, type Reserved, type StageColumn } from './copy-stage.ts';
import type { ImportKind } from './mapping.ts';

export { copyValue };

/** A customer as one COPY line, `n` being its row number in the file. */
export function customerCopyLine(r: CustomerRecord, n: number): string {
  return (
    `${n}\t${copyValue(r.external_id)}\t${copyValue(r.full_name)}\t${copyValue(r.family_name)}\t${copyValue(r.given_name)}` +
    `\t${copyValue(r.gender)}\t${copyValue(r.salutation)}\t${copyValue(r.locale)}\t${copyValue(r.email)}\t${copyValue(r.phone)}` +
    `\t${copyValue(r.address_line1)}\t${copyValue(r.address_line2)}\t${copyValue(r.district)}\t${copyValue(r.city)}` +
    `\t${copyValue(r.province)}\t${copyValue(r.postal_code)}\t${copyValue(r.country)}\t${copyValue(r.birthday)}` +
    `\t${copyValue(r.timezone)}\t${copyValue(r.created_at)}\t${copyValue(JSON.stringify(r.attributes))}` +
    `\t${copyValue(r.defaults.locale)}\t${copyValue(r.defaults.timezone)}\t${copyValue(r.defaults.country)}` +
    `\t${copyValue(r.consents.mail)}\t${copyValue(r.consents.email)}\t${copyValue(r.consents.sms)}`
  );
}

/** An order as one COPY line. */
export function orderCopyLine(r: OrderRecord, n: number): string {
  return [
    String(n),
    copyValue(r.order_ref),
    copyValue(r.customer_external_id),
    copyValue(r.amount),
    copyValue(r.currency),
    copyValue(r.occurred_at),
    copyValue(r.channel),
  ].join('\t');
}

export interface BatchOutcome {
  inserted: number;
  updated: number;
  /** Row numbers whose key an earlier row of this file already wrote. */
  duplicates: number[];
  /** Row numbers of orders whose customer is unknown. */
  unknownCustomers: number[];
}

const columns = (spec: string): StageColumn[] =>
  spec.split(',').map((c) => {
    const [name, ...type] = c.trim().split(' ');
    return { name: name!, type: type.join(' ') };
  });

const CUSTOMER_STAGE = columns(
  `n int, external_id text, full_name text, family_name text, given_name text, gender text, salutation text,
   locale text, email text, phone text, address_line1 text, address_line2 text, district text, city text,
   province text, postal_code text, country text, birthday date, timezone text, created_at text, attributes jsonb,
   locale_default text, timezone_default text, country_default text, consent_mail text, consent_email text,
   consent_sms text`,
);
const ORDER_STAGE = columns(
  'n int, order_ref text, customer_external_id text, amount numeric, currency text, occurred_at text, channel text',
);

export class StagedWriter {
  private constructor(
    private readonly conn: Reserved,
    private readonly stage: CopyStage,
    private readonly kind: ImportKind,
    private readonly importId: number,
    private readonly source: string,
    private readonly timezone: string,
    private readonly owned: boolean,
  ) {}

  /** A writer on a connection of its own, released by close(). */
  static async open(
    sql: Sql,
    kind: ImportKind,
    importId: number,
    opts: { source: string; timezone: string },
  ): Promise<StagedWriter> {
    const conn = await sql.reserve();
    try {
      return await StagedWriter.create(conn, kind, importId, opts, true);
    } catch (error) {
      conn.release();
      throw error;
    }
  }

  /** A writer on a connection the caller has reserved (and releases): several writers may share one. */
  static on(
    conn: Reserved,
    kind: ImportKind,
    importId: number,
    opts: { source: string; timezone: string },
  ): Promise<StagedWriter> {
    return StagedWriter.create(conn, kind, importId, opts, false);
  }

  private static async create(
    conn: Reserved,
    kind: ImportKind,
    importId: number,
    opts: { source: string; timezone: string },
    owned: boolean,
  ): Promise<StagedWriter> {
    const stage =
      kind === 'customers'
        ? await CopyStage.create(conn, 'import_stage_customers', CUSTOMER_STAGE, ['external_id'])
        : await CopyStage.create(conn, 'import_stage_orders', ORDER_STAGE, ['order_ref']);
    return new StagedWriter(conn, stage, kind, importId, opts.source, opts.timezone, owned);
  }

  /**
   * Runs `apply` with hash and merge joins off, so that each batch reaches the large tables by
   * index probes: otherwise the planner may read all of customers for every batch (a cost that
   * grows with the table), where a batch needs a few thousand lookups.
   */
  private async indexJoins<T>(apply: () => Promise<T>): Promise<T> {
    await this.conn`set enable_hashjoin = off`;
    await this.conn`set enable_mergejoin = off`;
    try {
      return await apply();
    } finally {
      await this.conn`reset enable_hashjoin`;
      await this.conn`reset enable_mergejoin`;
    }
  }

  /** Loads one batch (COPY text, one line per row) and applies it; the staging table is emptied after. */
  async write(copyText: string): Promise<BatchOutcome> {
    if (!copyText) return { inserted: 0, updated: 0, duplicates: [], unknownCustomers: [] };
    await this.stage.load(copyText);
    try {
      // Statistics of this batch's keys let the planner pick index lookups into the large tables
      // (only the key columns: analysing every column costs more than it tells).
      if (this.kind === 'customers') {
        await this.stage.analyze(['n', 'external_id']);
        return await this.indexJoins(() => this.applyCustomers());
      }
      await this.stage.analyze(['n', 'order_ref', 'customer_external_id']);
      return await this.indexJoins(() => this.applyOrders());
    } finally {
      await this.stage.truncate();
    }
  }

  private async applyCustomers(): Promise<BatchOutcome> {
    const importId = this.importId;
    const [result] = await this.conn<{ inserted: number; updated: number; staged: number; written: number[] | null }[]>`
      with src as materialized (
        select distinct on (external_id) * from import_stage_customers order by external_id, n
      ),
      updated as (
        update customers c set
          full_name = coalesce(i.full_name, c.full_name),
          family_name = coalesce(i.family_name, c.family_name),
          given_name = coalesce(i.given_name, c.given_name),
          gender = coalesce(i.gender, c.gender),
          salutation = coalesce(i.salutation, c.salutation),
          locale = coalesce(i.locale, c.locale),
          email = coalesce(i.email, c.email),
          phone = coalesce(i.phone, c.phone),
          address_line1 = coalesce(i.address_line1, c.address_line1),
          address_line2 = coalesce(i.address_line2, c.address_line2),
          district = coalesce(i.district, c.district),
          city = coalesce(i.city, c.city),
          province = coalesce(i.province, c.province),
          postal_code = coalesce(i.postal_code, c.postal_code),
          country = coalesce(i.country, c.country),
          birthday = coalesce(i.birthday, c.birthday),
          timezone = coalesce(i.timezone, c.timezone),
          attributes = c.attributes || coalesce(i.attributes, '{}'::jsonb),
          updated_at = now(),
          last_import_id = ${importId}
        from src i
        -- Not "is distinct from": most rows carry this import's id by the end, so the planner would
        -- estimate one row and read all of customers for every batch instead of probing its index.
        where c.external_id = i.external_id and coalesce(c.last_import_id, 0) <> ${importId}
        returning c.id, i.n, i.consent_mail, i.consent_email, i.consent_sms
      ),
      inserted as (
        insert into customers (
          external_id, full_name, family_name, given_name, gender, salutation, locale, email, phone,
          address_line1, address_line2, district, city, province, postal_code, country, birthday,
          timezone, attributes, created_at, last_import_id)
        select i.external_id, i.full_name, i.family_name, i.given_name, coalesce(i.gender, 'unknown'),
          i.salutation, coalesce(i.locale, i.locale_default), i.email, i.phone, i.address_line1,
          i.address_line2, i.district, i.city, i.province, i.postal_code,
          coalesce(i.country, i.country_default), i.birthday, coalesce(i.timezone, i.timezone_default),
          coalesce(i.attributes, '{}'::jsonb),
          coalesce(case when i.created_at ~ '(Z|[+-][0-9]{2}:[0-9]{2})$' then i.created_at::timestamptz
                        else i.created_at::timestamp at time zone coalesce(i.timezone, i.timezone_default) end, now()),
          ${importId}
        from src i
        order by i.n
        -- Rows that exist (updated above, or written earlier by this import) conflict and are skipped.
        on conflict (external_id) do nothing
        returning id, external_id
      ),
      written as (
        select id, n, consent_mail, consent_email, consent_sms from updated
        union all
        -- The first staged row of each inserted key, found through the staging table's index.
        select w.id, s.n, s.consent_mail, s.consent_email, s.consent_sms
        from inserted w
        cross join lateral (
          select n, consent_mail, consent_email, consent_sms from import_stage_customers s
          where s.external_id = w.external_id order by n limit 1
        ) s
      ),
      consented as (
        insert into consents (customer_id, channel, status, source)
        select w.id, v.channel, v.status, ${this.source}
        from written w
        cross join lateral (values ('mail', w.consent_mail), ('email', w.consent_email), ('sms', w.consent_sms))
          as v(channel, status)
        where v.status is not null
        on conflict (customer_id, channel) do update
          set status = excluded.status, source = excluded.source, recorded_at = now()
      )
      select (select count(*) from inserted)::int as inserted,
        (select count(*) from updated)::int as updated,
        -- Only when some staged row was not written are the written rows named.
        case when (select count(*) from written) < (select count(*) from import_stage_customers)
             then coalesce((select array_agg(n) from written), '{}') end as written`;
    return {
      inserted: result!.inserted,
      updated: result!.updated,
      duplicates: await this.notWritten(result!.written),
      unknownCustomers: [],
    };
  }

  /** The staged rows other than those written (or `refused` otherwise): their keys were written
   * by an earlier row. `written` is null when every staged row was written or refused. */
  private async notWritten(written: number[] | null, refused: number[] = []): Promise<number[]> {
    if (!written) return [];
    const done = new Set([...written, ...refused]);
    const staged = await this.conn<{ n: number }[]>`select n from ${this.conn(this.stage.table)} order by n`;
    return staged.map((r) => r.n).filter((n) => !done.has(n));
  }

  private async applyOrders(): Promise<BatchOutcome> {
    const importId = this.importId;
    const [result] = await this.conn<
      { inserted: number; updated: number; unknown_customers: number[]; written: number[] | null }[]
    >`
      with resolved as materialized (
        select s.*, c.id as customer_id,
          case when s.occurred_at ~ '(Z|[+-][0-9]{2}:[0-9]{2})$' then s.occurred_at::timestamptz
               else s.occurred_at::timestamp at time zone ${this.timezone} end as occurred
        from import_stage_orders s left join customers c on c.external_id = s.customer_external_id
      ),
      src as materialized (
        select distinct on (order_ref) * from resolved where customer_id is not null order by order_ref, n
      ),
      updated as (
        update orders o set customer_id = r.customer_id, amount = r.amount, currency = r.currency,
          occurred_at = r.occurred, channel = coalesce(r.channel, o.channel), last_import_id = ${importId}
        from src r
        where o.order_ref = r.order_ref and coalesce(o.last_import_id, 0) <> ${importId}
        returning r.n
      ),
      inserted as (
        insert into orders (customer_id, order_ref, amount, currency, occurred_at, channel, last_import_id)
        select r.customer_id, r.order_ref, r.amount, r.currency, r.occurred, r.channel, ${importId}
        from src r
        order by r.n
        on conflict (order_ref) do nothing
        returning order_ref
      ),
      written as (
        select n from updated
        union all
        -- The first staged row of each inserted key whose customer is known, through indexes.
        select s.n from inserted w
        cross join lateral (
          select s.n from import_stage_orders s
          where s.order_ref = w.order_ref
            and exists (select 1 from customers c where c.external_id = s.customer_external_id)
          order by s.n limit 1
        ) s
      ),
      unknown as (select n from resolved where customer_id is null)
      select (select count(*) from inserted)::int as inserted,
        (select count(*) from updated)::int as updated,
        coalesce((select array_agg(n order by n) from unknown), '{}') as unknown_customers,
        case when (select count(*) from written) + (select count(*) from unknown)
                  < (select count(*) from import_stage_orders)
             then coalesce((select array_agg(n) from written), '{}') end as written`;
    const unknownCustomers = result!.unknown_customers;
    return {
      inserted: result!.inserted,
      updated: result!.updated,
      duplicates: await this.notWritten(result!.written, unknownCustomers),
      unknownCustomers,
    };
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    try {
      await this.conn`discard temp`;
    } finally {
      this.conn.release();
    }
  }
}
