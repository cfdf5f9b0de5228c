// Compiles a rule tree into one SQL condition over `customers c`, built only from the `postgres`
// tagged template: every value a user wrote travels as a parameter, every identifier comes from
// the field registry. A rule on a field without a value is false (never SQL's unknown), so `not`
// behaves as a marketer expects.
import type { PendingQuery, Row } from 'postgres';
import type { Sql } from '../../db/connection.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import type { FieldRef } from './fields.ts';
import type { Rule, Scalar } from './rules.ts';
import type { SegmentRegistry } from './segments.ts';

export type Fragment = PendingQuery<Row[]>;

export interface CompileContext {
  sql: Sql;
  registry: SegmentRegistry;
  /** "Today" for relative dates; a parameter so that tests and previews can fix it. */
  asOf: Date;
}

// Response kinds that say the customer acted on a campaign (not deliveries or opt-outs).
export const RESPONSE_KINDS = [
  'click',
  'purl_visit',
  'qr_scan',
  'sms_reply',
  'coupon_redemption',
  'branch_visit',
  'call_outcome',
  'appointment',
  'order',
];

export function fieldSql(sql: Sql, field: FieldRef): Fragment {
  if (field.kind === 'column') return sql`c.${sql(field.name)}`;
  const key = field.key;
  switch (field.type) {
    case 'number':
      return sql`(case when jsonb_typeof(c.attributes -> ${key}::text) = 'number' then (c.attributes ->> ${key}::text)::numeric end)`;
    case 'boolean':
      return sql`(case when jsonb_typeof(c.attributes -> ${key}::text) = 'boolean' then (c.attributes ->> ${key}::text)::boolean end)`;
    case 'date':
      return sql`mailroom_try_date(c.attributes ->> ${key}::text)`;
    default:
      return sql`(c.attributes ->> ${key}::text)`;
  }
}

function cast(sql: Sql, field: FieldRef, value: Scalar): Fragment {
  switch (field.type) {
    case 'number':
      return sql`${value}::numeric`;
    case 'date':
      return sql`${value}::date`;
    case 'timestamp':
      return sql`${value}::timestamptz`;
    case 'boolean':
      return sql`${value}::boolean`;
    default:
      return sql`${String(value)}::text`;
  }
}

function castList(sql: Sql, field: FieldRef, values: Scalar[]): Fragment {
  switch (field.type) {
    case 'number':
      return sql`${values.map(String)}::numeric[]`;
    case 'date':
      return sql`${values.map(String)}::date[]`;
    case 'timestamp':
      return sql`${values.map(String)}::timestamptz[]`;
    case 'boolean':
      return sql`${values.map(String)}::boolean[]`;
    default:
      return sql`${values.map(String)}::text[]`;
  }
}

export function joinFragments(sql: Sql, parts: Fragment[], glue: 'and' | 'or'): Fragment {
  return parts
    .slice(1)
    .reduce((acc, part) => (glue === 'and' ? sql`${acc} and ${part}` : sql`${acc} or ${part}`), parts[0]!);
}

function compare(ctx: CompileContext, rule: Extract<Rule, { kind: 'compare' }>): Fragment {
  const { sql } = ctx;
  const x = fieldSql(sql, rule.field);
  const v = rule.value;
  switch (rule.op) {
    case 'exists':
      return v ? sql`${x} is not null` : sql`${x} is null`;
    case 'in':
      return sql`${x} = any(${castList(sql, rule.field, v as Scalar[])})`;
    case 'not in':
      return sql`not (${x} = any(${castList(sql, rule.field, v as Scalar[])}))`;
    case 'between': {
      const [lo, hi] = v as Scalar[];
      return sql`${x} between ${cast(sql, rule.field, lo!)} and ${cast(sql, rule.field, hi!)}`;
    }
    case 'contains':
      return sql`strpos(${x}, ${String(v)}::text) > 0`;
    case 'starts_with':
      return sql`starts_with(${x}, ${String(v)}::text)`;
    case '=':
      return sql`${x} = ${cast(sql, rule.field, v as Scalar)}`;
    case '!=':
      return sql`${x} <> ${cast(sql, rule.field, v as Scalar)}`;
    case '<':
      return sql`${x} < ${cast(sql, rule.field, v as Scalar)}`;
    case '<=':
      return sql`${x} <= ${cast(sql, rule.field, v as Scalar)}`;
    case '>':
      return sql`${x} > ${cast(sql, rule.field, v as Scalar)}`;
    case '>=':
      return sql`${x} >= ${cast(sql, rule.field, v as Scalar)}`;
  }
}

function numericOp(sql: Sql, left: Fragment, op: '=' | '!=' | '<' | '<=' | '>' | '>=', value: number): Fragment {
  const v = sql`${value}::numeric`;
  switch (op) {
    case '=':
      return sql`${left} = ${v}`;
    case '!=':
      return sql`${left} <> ${v}`;
    case '<':
      return sql`${left} < ${v}`;
    case '<=':
      return sql`${left} <= ${v}`;
    case '>':
      return sql`${left} > ${v}`;
    case '>=':
      return sql`${left} >= ${v}`;
  }
}

function within(sql: Sql, column: Fragment, asOf: Fragment, days: number | undefined): Fragment {
  return days === undefined
    ? sql`true`
    : sql`${column} > ${asOf} - make_interval(days => ${days}::int) and ${column} <= ${asOf}`;
}

function leaf(ctx: CompileContext, rule: Exclude<Rule, { kind: 'all' | 'any' | 'not' | 'segment' }>): Fragment {
  const { sql } = ctx;
  const asOf = sql`${ctx.asOf.toISOString()}::timestamptz`;
  const localToday = sql`(${asOf} at time zone c.timezone)::date`;
  switch (rule.kind) {
    case 'compare':
      return compare(ctx, rule);
    case 'birthday':
      if (rule.when === 'today') return sql`mailroom_birthday_on(c.birthday, ${localToday})`;
      if (rule.when === 'this_month') return sql`extract(month from c.birthday) = extract(month from ${localToday})`;
      return sql`exists (select 1 from generate_series(date_trunc('week', ${localToday}), date_trunc('week', ${localToday}) + interval '6 days', interval '1 day') as d(day)
                         where mailroom_birthday_on(c.birthday, d.day::date))`;
    case 'joined':
    case 'last_order': {
      const cutoff = (days: number) => sql`${asOf} - make_interval(days => ${days}::int)`;
      if (rule.kind === 'joined') {
        const parts = [
          ...(rule.withinDays !== undefined ? [sql`c.created_at > ${cutoff(rule.withinDays)}`] : []),
          ...(rule.moreThanDaysAgo !== undefined ? [sql`c.created_at <= ${cutoff(rule.moreThanDaysAgo)}`] : []),
        ];
        return joinFragments(sql, parts, 'and');
      }
      const orderedSince = (days: number) =>
        sql`exists (select 1 from orders o where o.customer_id = c.id and o.occurred_at > ${cutoff(days)} and o.occurred_at <= ${asOf})`;
      // Both bounds: ordered within the longer window but not within the shorter ("lapsing").
      const parts = [
        ...(rule.withinDays !== undefined ? [orderedSince(rule.withinDays)] : []),
        ...(rule.moreThanDaysAgo !== undefined ? [sql`not ${orderedSince(rule.moreThanDaysAgo)}`] : []),
      ];
      return joinFragments(sql, parts, 'and');
    }
    case 'orders': {
      const window = within(sql, sql`o.occurred_at`, asOf, rule.withinDays);
      const agg =
        rule.metric === 'count'
          ? sql`count(*)`
          : rule.metric === 'sum'
            ? sql`coalesce(sum(o.amount), 0)`
            : rule.metric === 'max_amount'
              ? sql`max(o.amount)`
              : sql`floor(extract(epoch from (${asOf} - max(o.occurred_at))) / 86400)`;
      const value = sql`(select ${agg} from orders o where o.customer_id = c.id and o.occurred_at <= ${asOf} and ${window})`;
      return numericOp(sql, value, rule.op, rule.value);
    }
    case 'consent':
      return sql`exists (select 1 from consents k where k.customer_id = c.id and k.channel = ${rule.channel}::text and k.status = ${rule.status}::text)`;
    case 'contacted': {
      const campaign =
        rule.campaign === undefined
          ? sql`true`
          : sql`d.campaign_id = (select id from campaigns where slug = ${rule.campaign}::text)`;
      return sql`exists (select 1 from deliveries d where d.customer_id = c.id and d.status = 'sent' and ${campaign} and ${within(sql, sql`d.sent_at`, asOf, rule.withinDays)})`;
    }
    case 'responded': {
      const campaign =
        rule.campaign === undefined
          ? sql`true`
          : sql`r.campaign_id = (select id from campaigns where slug = ${rule.campaign}::text)`;
      return sql`exists (select 1 from responses r where r.customer_id = c.id and r.kind = any(${RESPONSE_KINDS}::text[]) and ${campaign} and ${within(sql, sql`r.occurred_at`, asOf, rule.withinDays)})`;
    }
  }
}

export function compileRule(ctx: CompileContext, rule: Rule): Fragment {
  const { sql } = ctx;
  switch (rule.kind) {
    case 'all':
      return sql`(${joinFragments(
        sql,
        rule.rules.map((r) => compileRule(ctx, r)),
        'and',
      )})`;
    case 'any':
      return sql`(${joinFragments(
        sql,
        rule.rules.map((r) => compileRule(ctx, r)),
        'or',
      )})`;
    case 'not':
      return sql`(not ${compileRule(ctx, rule.rule)})`;
    case 'segment': {
      // Files are checked for unknown names and cycles before compiling; this guards other callers.
      const target = ctx.registry.get(rule.name);
      if (!target)
        throw new UserError(
          `unknown segment "${rule.name}". Known: ${ctx.registry.names().join(', ')}`,
          ExitCode.badInput,
        );
      return compileRule(ctx, target.rules);
    }
    default:
      return sql`coalesce((${leaf(ctx, rule)}), false)`;
  }
}
