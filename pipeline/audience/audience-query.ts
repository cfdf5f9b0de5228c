// The whole audience as one set-based query: segment rules, suppression, one per household,
// top-N ranking with bands or a sample, then holdout and variants by a stable hash of
// (campaign, customer). Snapshots insert its rows; previews count them.
import type { Sql } from '../../db/connection.ts';
import { compileRule, fieldSql, type Fragment } from './compile.ts';
import { resolveField } from './fields.ts';
import { channelAddress, suppressionReason, type FrequencyCap } from './suppression.ts';
import type { Audience } from './audience.ts';
import type { SegmentRegistry } from './segments.ts';
import { ExitCode, UserError } from '../../config/errors.ts';

export interface AudienceContext {
  sql: Sql;
  registry: SegmentRegistry;
  asOf: Date;
  frequencyCap?: FrequencyCap | undefined;
}

function hash(sql: Sql, key: string, salt: string): Fragment {
  return sql`mailroom_hash_unit(${`${key}:${salt}:`}::text || c.id::text)`;
}

/** Rows: customer_id, rank, band, variant, holdout, suppression_reason. `key` salts the hashes (the campaign slug). */
export function audienceQuery(ctx: AudienceContext, audience: Audience, key: string): Fragment {
  const { sql } = ctx;
  const { segment } = audience;
  const where = compileRule({ sql, registry: ctx.registry, asOf: ctx.asOf }, segment.rules);
  const reason = suppressionReason(sql, audience.channel, ctx.asOf, ctx.frequencyCap);

  // "Better" sorts first: a larger metric for top desc, a smaller one for asc, a smaller hash for a sample.
  let sortKey: Fragment = sql`null::numeric`;
  let hasMetric: Fragment = sql`true`;
  if (segment.top) {
    const field = resolveField(segment.top.by);
    if (!field || !['number', 'date', 'timestamp'].includes(field.type)) {
      throw new UserError(
        `${segment.origin}: top.by must be a number or date field; "${segment.top.by}" is ${field ? `a ${field.type} field` : 'not a field'}`,
        ExitCode.badInput,
      );
    }
    const metric = field.type === 'number' ? fieldSql(sql, field) : sql`extract(epoch from ${fieldSql(sql, field)})`;
    sortKey = segment.top.order === 'asc' ? sql`-(${metric})` : metric;
    hasMetric = sql`${fieldSql(sql, field)} is not null`;
  } else if (segment.sample && 'n' in segment.sample) {
    sortKey = sql`-${hash(sql, key, 'sample')}`;
  }
  const household = audience.onePerHousehold ? channelAddress(sql, 'mail') : sql`null::text`;

  const limit = segment.top?.n ?? (segment.sample && 'n' in segment.sample ? segment.sample.n : undefined);
  const percent = segment.sample && 'percent' in segment.sample ? segment.sample.percent : undefined;
  const selection =
    limit !== undefined
      ? sql`select r.* from ranked r, cut where (r.erank <= ${limit}::int) or (r.erank is null and r.arank <= coalesce(cut.arank, r.arank))`
      : sql`select r.* from ranked r`;
  const rank = segment.top ? sql`s.erank` : sql`null::int`;
  const bands = segment.top?.bands ?? [];
  const band = bands.length
    ? sql`case ${bands.slice(1).reduce((acc, b) => sql`${acc} when s.erank between ${b.from}::int and ${b.to}::int then ${b.name}::text`, sql`when s.erank between ${bands[0]!.from}::int and ${bands[0]!.to}::int then ${bands[0]!.name}::text`)} end`
    : sql`null::text`;
  const total = audience.variants.reduce((s, v) => s + v.weight, 0);
  let cumulative = 0;
  const variantCases = audience.variants.map((v) => {
    cumulative += v.weight / total;
    return sql`when s.variant_hash < ${cumulative}::float8 then ${v.name}::text`;
  });
  const variant = variantCases.length
    ? sql`case ${variantCases.slice(1).reduce((acc, f) => sql`${acc} ${f}`, variantCases[0]!)} else ${audience.variants.at(-1)!.name}::text end`
    : sql`null::text`;

  // Window functions sort every row; use them only when the audience ranks, samples a number,
  // or keeps one member per household.
  const deduped = audience.onePerHousehold
    ? sql`
      select m.customer_id, m.sort_key, m.holdout_hash, m.variant_hash,
        case when m.reason is null and m.household is not null
              and row_number() over (partition by m.reason is null, m.household order by m.sort_key desc nulls last, m.customer_id) > 1
             then 'household_duplicate' else m.reason end as reason
      from matched m
      where m.in_sample`
    : sql`select m.customer_id, m.sort_key, m.holdout_hash, m.variant_hash, m.reason from matched m where m.in_sample`;
  const ranked =
    limit !== undefined
      ? sql`
      select d.*,
        case when d.reason is null then row_number() over (partition by d.reason is null order by d.sort_key desc nulls last, d.customer_id) end as erank,
        row_number() over (order by d.sort_key desc nulls last, d.customer_id) as arank
      from deduped d`
      : sql`select d.*, null::bigint as erank, null::bigint as arank from deduped d`;

  return sql`
    with matched as (
      select c.id as customer_id, ${sortKey} as sort_key, ${reason} as reason, ${household} as household,
             ${hash(sql, key, 'holdout')} as holdout_hash, ${hash(sql, key, 'variant')} as variant_hash,
             ${percent !== undefined ? sql`${hash(sql, key, 'sample')} < ${percent / 100}::float8` : sql`true`} as in_sample
      from customers c
      where ${where} and ${hasMetric}
    ),
    deduped as (${deduped}),
    ranked as (${ranked}),
    cut as (
      -- Suppressed customers are kept (with their reason) when they would have made the cut.
      select case when count(*) filter (where erank is not null) < ${limit ?? 0}::int then null
                  else max(arank) filter (where erank = ${limit ?? 0}::int) end as arank
      from ranked
    ),
    selected as (${selection})
    select s.customer_id,
           ${rank} as rank,
           ${band} as band,
           case when s.reason is null and not (s.holdout_hash < ${audience.holdoutPercent / 100}::float8) then ${variant} end as variant,
           (s.reason is null and s.holdout_hash < ${audience.holdoutPercent / 100}::float8) as holdout,
           s.reason as suppression_reason
    from selected s`;
}
