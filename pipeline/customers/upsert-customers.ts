// Writes a batch of customers in one statement: existing ones (by external_id) are updated, new
// ones inserted. A customer already written by the same import is left alone and reported as a
// duplicate, so a file that names a customer twice is caught without holding its ids in memory.
import type { Sql } from '../../db/connection.ts';
import type { CustomerRecord } from './records.ts';

export type UpsertOutcome = 'inserted' | 'updated' | 'duplicate';

function toRow(r: CustomerRecord, n: number) {
  const { consents: _c, defaults, ...fields } = r;
  return {
    ...fields,
    n,
    locale_default: defaults.locale,
    timezone_default: defaults.timezone,
    country_default: defaults.country,
  };
}

/** Outcome per record, in input order. Records must have distinct external_ids. */
export async function upsertCustomers(
  sql: Sql,
  records: CustomerRecord[],
  importId: number,
  source: string,
): Promise<UpsertOutcome[]> {
  if (!records.length) return [];
  const rows = records.map(toRow);
  return sql.begin(async (tx) => {
    const written = await tx<{ external_id: string; inserted: boolean }[]>`
      with input as (
        select * from jsonb_to_recordset(${tx.json(rows as never)}::jsonb) as x(
          n int, external_id text, full_name text, family_name text, given_name text, gender text,
          salutation text, locale text, email text, phone text, address_line1 text, address_line2 text,
          district text, city text, province text, postal_code text, country text, birthday date,
          timezone text, created_at text, attributes jsonb,
          locale_default text, timezone_default text, country_default text)
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
        from input i
        where c.external_id = i.external_id and c.last_import_id is distinct from ${importId}
        returning c.external_id, false as inserted
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
        from input i
        where not exists (select 1 from customers c where c.external_id = i.external_id)
        order by i.n
        on conflict (external_id) do nothing
        returning external_id, true as inserted
      )
      select external_id, inserted from updated
      union all
      select external_id, inserted from inserted`;
    const outcome = new Map(written.map((w) => [w.external_id, w.inserted ? 'inserted' : 'updated'] as const));
    const consents = records.flatMap((r) =>
      outcome.has(r.external_id)
        ? (['mail', 'email', 'sms'] as const).flatMap((channel) =>
            r.consents[channel] ? [{ external_id: r.external_id, channel, status: r.consents[channel] }] : [],
          )
        : [],
    );
    if (consents.length) {
      await tx`
        insert into consents (customer_id, channel, status, source)
        select c.id, v.channel, v.status, ${source}
        from jsonb_to_recordset(${tx.json(consents as never)}::jsonb) as v(external_id text, channel text, status text)
        join customers c on c.external_id = v.external_id
        on conflict (customer_id, channel) do update
          set status = excluded.status, source = excluded.source, recorded_at = now()`;
    }
    return records.map((r) => outcome.get(r.external_id) ?? 'duplicate');
  }) as Promise<UpsertOutcome[]>;
}
