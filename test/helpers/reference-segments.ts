// A plain TypeScript reading of the segment rules, over customers loaded into memory. The
// property test checks that the SQL compiler and this reading select the same customers.
import type { Sql } from '../../db/connection.ts';
import type { FieldRef } from '../../pipeline/audience/fields.ts';
import type { Rule, Scalar } from '../../pipeline/audience/rules.ts';
import type { SegmentRegistry } from '../../pipeline/audience/segments.ts';

export interface RefCustomer {
  id: number;
  columns: Record<string, string | number | null>;
  attributes: Record<string, unknown>;
  consents: Map<string, string>;
  orders: { cents: number; at: number }[];
}

const DAY = 86_400_000;

export async function loadReferenceData(sql: Sql): Promise<RefCustomer[]> {
  const customers = await sql<Record<string, unknown>[]>`
    select id, external_id, full_name, family_name, given_name, gender, salutation, locale, email, phone, address_line1,
           address_line2, district, city, province, postal_code, country, to_char(birthday, 'YYYY-MM-DD') as birthday,
           timezone, extract(epoch from created_at) * 1000 as created_ms, attributes
    from customers order by id`;
  const consents = await sql<
    { customer_id: number; channel: string; status: string }[]
  >`select customer_id, channel, status from consents`;
  const orders = await sql<{ customer_id: number; cents: string; at: number }[]>`
    select customer_id, (amount * 100)::bigint::text as cents, extract(epoch from occurred_at) * 1000 as at from orders`;
  const byId = new Map<number, RefCustomer>();
  for (const c of customers) {
    const { id, attributes, created_ms, ...columns } = c;
    byId.set(id as number, {
      id: id as number,
      columns: { ...(columns as Record<string, string | null>), id: id as number, created_at: Number(created_ms) },
      attributes: attributes as Record<string, unknown>,
      consents: new Map(),
      orders: [],
    });
  }
  for (const k of consents) byId.get(k.customer_id)!.consents.set(k.channel, k.status);
  for (const o of orders) byId.get(o.customer_id)!.orders.push({ cents: Number(o.cents), at: Number(o.at) });
  return [...byId.values()];
}

function value(c: RefCustomer, field: FieldRef): string | number | boolean | null {
  if (field.kind === 'column') return c.columns[field.name] ?? null;
  const v = c.attributes[field.key];
  if (v === undefined || v === null) return null;
  switch (field.type) {
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date':
      return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) ? v : null;
    default:
      return typeof v === 'string' ? v : JSON.stringify(v);
  }
}

function normalise(field: FieldRef, v: Scalar): string | number | boolean {
  if (field.type === 'timestamp') return Date.parse(String(v));
  if (field.type === 'text') return String(v);
  return v;
}

function compare(c: RefCustomer, rule: Extract<Rule, { kind: 'compare' }>): boolean {
  const x = value(c, rule.field);
  if (rule.op === 'exists') return rule.value ? x !== null : x === null;
  if (x === null) return false;
  const list = Array.isArray(rule.value) ? rule.value.map((v) => normalise(rule.field, v)) : [];
  const v = Array.isArray(rule.value) ? undefined : normalise(rule.field, rule.value as Scalar);
  switch (rule.op) {
    case '=':
      return x === v;
    case '!=':
      return x !== v;
    case '<':
      return x < v!;
    case '<=':
      return x <= v!;
    case '>':
      return x > v!;
    case '>=':
      return x >= v!;
    case 'in':
      return list.includes(x);
    case 'not in':
      return !list.includes(x);
    case 'between':
      return x >= list[0]! && x <= list[1]!;
    case 'contains':
      return String(x).includes(String(v));
    case 'starts_with':
      return String(x).startsWith(String(v));
  }
}

function numeric(left: number | null, op: string, right: number): boolean {
  if (left === null) return false;
  switch (op) {
    case '=':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    default:
      return left >= right;
  }
}

export function evaluate(c: RefCustomer, rule: Rule, registry: SegmentRegistry, asOf: Date): boolean {
  const now = asOf.getTime();
  const orders = c.orders.filter((o) => o.at <= now);
  switch (rule.kind) {
    case 'all':
      return rule.rules.every((r) => evaluate(c, r, registry, asOf));
    case 'any':
      return rule.rules.some((r) => evaluate(c, r, registry, asOf));
    case 'not':
      return !evaluate(c, rule.rule, registry, asOf);
    case 'segment':
      return evaluate(c, registry.get(rule.name)!.rules, registry, asOf);
    case 'compare':
      return compare(c, rule);
    case 'consent':
      return c.consents.get(rule.channel) === rule.status;
    case 'joined': {
      const created = c.columns.created_at as number;
      return (
        (rule.withinDays === undefined || created > now - rule.withinDays * DAY) &&
        (rule.moreThanDaysAgo === undefined || created <= now - rule.moreThanDaysAgo * DAY)
      );
    }
    case 'last_order': {
      const since = (days: number) => orders.some((o) => o.at > now - days * DAY);
      return (
        (rule.withinDays === undefined || since(rule.withinDays)) &&
        (rule.moreThanDaysAgo === undefined || !since(rule.moreThanDaysAgo))
      );
    }
    case 'orders': {
      const inWindow = orders.filter((o) => rule.withinDays === undefined || o.at > now - rule.withinDays * DAY);
      const last = inWindow.length ? Math.max(...inWindow.map((o) => o.at)) : null;
      // Money in cents, so sums stay exact; the threshold is compared in cents too.
      const [left, right] =
        rule.metric === 'count'
          ? [inWindow.length, rule.value]
          : rule.metric === 'sum'
            ? [inWindow.reduce((s, o) => s + o.cents, 0), rule.value * 100]
            : rule.metric === 'max_amount'
              ? [inWindow.length ? Math.max(...inWindow.map((o) => o.cents)) : null, rule.value * 100]
              : [last === null ? null : Math.floor((now - last) / DAY), rule.value];
      return numeric(left, rule.op, right);
    }
    default:
      throw new Error(`the reference does not model ${rule.kind}`);
  }
}
