// The segment rule language: YAML in, a typed rule tree out. Every error carries the YAML path of
// the offending node so that the caller can name the file and line.
import { knownFieldNames, resolveField, type FieldRef, type FieldType } from './fields.ts';

export type Path = (string | number)[];

export class RuleError extends Error {
  constructor(
    readonly path: Path,
    message: string,
  ) {
    super(message);
  }
}

export const COMPARISONS = [
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  'not in',
  'between',
  'exists',
  'contains',
  'starts_with',
] as const;
export type Comparison = (typeof COMPARISONS)[number];
export type Scalar = string | number | boolean;
export type Channel = 'mail' | 'email' | 'sms';
export const CHANNELS: readonly Channel[] = ['mail', 'email', 'sms'];
export type OrderMetric = 'count' | 'sum' | 'max_amount' | 'days_since_last';

export type Rule =
  | { kind: 'all'; rules: Rule[] }
  | { kind: 'any'; rules: Rule[] }
  | { kind: 'not'; rule: Rule }
  | { kind: 'compare'; field: FieldRef; op: Comparison; value: Scalar | Scalar[] | boolean | null }
  | { kind: 'birthday'; when: 'today' | 'this_week' | 'this_month' }
  | { kind: 'joined'; withinDays?: number; moreThanDaysAgo?: number }
  | { kind: 'last_order'; withinDays?: number; moreThanDaysAgo?: number }
  | {
      kind: 'orders';
      metric: OrderMetric;
      withinDays?: number;
      op: '=' | '!=' | '<' | '<=' | '>' | '>=';
      value: number;
    }
  | { kind: 'consent'; channel: Channel; status: 'granted' | 'denied' }
  | { kind: 'segment'; name: string }
  | { kind: 'contacted'; campaign?: string; withinDays?: number }
  | { kind: 'responded'; campaign?: string; withinDays?: number };

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : JSON.stringify(v);
}

function only(obj: Obj, path: Path, allowed: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      throw new RuleError([...path, key], `unexpected key "${key}" here; allowed: ${allowed.join(', ')}`);
  }
}

function positiveInt(v: unknown, path: Path, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new RuleError(path, `${what} must be a whole number of 0 or more, not ${describe(v)}`);
  return v;
}

function days(obj: Obj, path: Path): { withinDays?: number; moreThanDaysAgo?: number } {
  only(obj, path, ['within_days', 'more_than_days_ago']);
  const out: { withinDays?: number; moreThanDaysAgo?: number } = {};
  if ('within_days' in obj) out.withinDays = positiveInt(obj.within_days, [...path, 'within_days'], 'within_days');
  if ('more_than_days_ago' in obj)
    out.moreThanDaysAgo = positiveInt(obj.more_than_days_ago, [...path, 'more_than_days_ago'], 'more_than_days_ago');
  if (out.withinDays === undefined && out.moreThanDaysAgo === undefined)
    throw new RuleError(path, 'give within_days or more_than_days_ago');
  if (out.withinDays !== undefined && out.moreThanDaysAgo !== undefined && out.moreThanDaysAgo >= out.withinDays) {
    throw new RuleError(
      path,
      `more_than_days_ago (${out.moreThanDaysAgo}) must be smaller than within_days (${out.withinDays}): together they mean "between the two"`,
    );
  }
  return out;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar date (JavaScript's Date.parse accepts 2024-02-30; PostgreSQL does not). */
function realDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  const date = new Date(Date.UTC(y!, m! - 1, d!));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m! - 1 && date.getUTCDate() === d;
}
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function typedValue(v: unknown, type: FieldType, path: Path, field: string): Scalar {
  const bad = (expected: string) =>
    new RuleError(path, `${field} is a ${type} field; ${describe(v)} is not ${expected}`);
  switch (type) {
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('a number');
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('true or false');
      return v;
    case 'date':
      if (typeof v !== 'string' || !DATE.test(v) || !realDate(v)) throw bad('a date (YYYY-MM-DD)');
      return v;
    case 'timestamp':
      if (typeof v !== 'string' || !TIMESTAMP.test(v) || Number.isNaN(Date.parse(v.replace(' ', 'T'))) || !realDate(v))
        throw bad('a date or date-time');
      return v;
    default: {
      if (typeof v !== 'string' && typeof v !== 'number') throw bad('text');
      const text = String(v);
      if (text.includes('\u0000'))
        throw new RuleError(path, `${field}: the value contains a NUL character, which no customer field can hold`);
      if (text.length > 10_000)
        throw new RuleError(path, `${field}: the value is ${text.length} characters long; at most 10,000 are allowed`);
      return text;
    }
  }
}

function parseCompare(obj: Obj, path: Path): Rule {
  only(obj, path, ['field', 'op', 'value', 'type']);
  if (typeof obj.field !== 'string')
    throw new RuleError([...path, 'field'], `field must be a field name, not ${describe(obj.field)}`);
  let declared: FieldType | undefined;
  if ('type' in obj) {
    if (!['text', 'number', 'date', 'boolean'].includes(obj.type as string))
      throw new RuleError([...path, 'type'], `type must be text, number, date or boolean, not ${describe(obj.type)}`);
    if (!obj.field.startsWith('attributes.'))
      throw new RuleError([...path, 'type'], 'type may be given only for attributes.NAME fields');
    declared = obj.type as FieldType;
  }
  const field = resolveField(obj.field, declared);
  if (!field) {
    throw new RuleError(
      [...path, 'field'],
      `unknown field "${obj.field}". Customer fields: ${knownFieldNames().join(', ')}; any other attribute: attributes.NAME`,
    );
  }
  const op = obj.op;
  if (typeof op !== 'string' || !(COMPARISONS as readonly string[]).includes(op)) {
    throw new RuleError(
      [...path, 'op'],
      `op must be one of ${COMPARISONS.map((c) => `'${c}'`).join(', ')}, not ${describe(op)}`,
    );
  }
  const comparison = op as Comparison;
  const vpath = [...path, 'value'];
  if (comparison === 'exists') {
    const v = obj.value ?? true;
    if (typeof v !== 'boolean') throw new RuleError(vpath, `exists takes true or false, not ${describe(v)}`);
    return { kind: 'compare', field, op: comparison, value: v };
  }
  if (!('value' in obj)) throw new RuleError(path, `op '${comparison}' needs a value`);
  if (['<', '<=', '>', '>=', 'between'].includes(comparison) && !['number', 'date', 'timestamp'].includes(field.type)) {
    throw new RuleError(
      [...path, 'op'],
      `'${comparison}' compares numbers or dates; ${obj.field} is a ${field.type} field`,
    );
  }
  if ((comparison === 'contains' || comparison === 'starts_with') && field.type !== 'text') {
    throw new RuleError([...path, 'op'], `'${comparison}' works on text; ${obj.field} is a ${field.type} field`);
  }
  if (comparison === 'in' || comparison === 'not in' || comparison === 'between') {
    if (!Array.isArray(obj.value))
      throw new RuleError(vpath, `'${comparison}' takes a list, not ${describe(obj.value)}`);
    if (comparison === 'between' && obj.value.length !== 2)
      throw new RuleError(vpath, `'between' takes a list of two values [low, high], not ${obj.value.length}`);
    if (obj.value.length === 0) throw new RuleError(vpath, `'${comparison}' needs at least one value`);
    if (obj.value.length > 10_000) throw new RuleError(vpath, `'${comparison}' takes at most 10,000 values`);
    return {
      kind: 'compare',
      field,
      op: comparison,
      value: obj.value.map((v, i) => typedValue(v, field.type, [...vpath, i], obj.field as string)),
    };
  }
  return { kind: 'compare', field, op: comparison, value: typedValue(obj.value, field.type, vpath, obj.field) };
}

const ORDER_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;

function parseOrders(v: unknown, path: Path): Rule {
  if (!isObject(v))
    throw new RuleError(
      path,
      `orders takes a mapping like {metric: count, within_days: 365, op: '>=', value: 3}, not ${describe(v)}`,
    );
  only(v, path, ['metric', 'within_days', 'op', 'value']);
  const metrics: OrderMetric[] = ['count', 'sum', 'max_amount', 'days_since_last'];
  if (!metrics.includes(v.metric as OrderMetric))
    throw new RuleError([...path, 'metric'], `metric must be one of ${metrics.join(', ')}, not ${describe(v.metric)}`);
  if (!(ORDER_OPS as readonly unknown[]).includes(v.op))
    throw new RuleError(
      [...path, 'op'],
      `op must be one of ${ORDER_OPS.map((o) => `'${o}'`).join(', ')}, not ${describe(v.op)}`,
    );
  if (typeof v.value !== 'number' || !Number.isFinite(v.value))
    throw new RuleError([...path, 'value'], `value must be a number, not ${describe(v.value)}`);
  return {
    kind: 'orders',
    metric: v.metric as OrderMetric,
    op: v.op as (typeof ORDER_OPS)[number],
    value: v.value,
    ...('within_days' in v ? { withinDays: positiveInt(v.within_days, [...path, 'within_days'], 'within_days') } : {}),
  };
}

function parseHistory(kind: 'contacted' | 'responded', v: unknown, path: Path): Rule {
  if (!isObject(v))
    throw new RuleError(
      path,
      `${kind} takes a mapping like {campaign: spring-2026} or {within_days: 30}, not ${describe(v)}`,
    );
  only(v, path, ['campaign', 'within_days']);
  if ('campaign' in v && typeof v.campaign !== 'string')
    throw new RuleError([...path, 'campaign'], `campaign must be a campaign slug, not ${describe(v.campaign)}`);
  return {
    kind,
    ...(typeof v.campaign === 'string' ? { campaign: v.campaign } : {}),
    ...('within_days' in v ? { withinDays: positiveInt(v.within_days, [...path, 'within_days'], 'within_days') } : {}),
  };
}

const RULE_KEYS = [
  'all',
  'any',
  'not',
  'field',
  'birthday',
  'joined',
  'last_order',
  'orders',
  'consent',
  'segment',
  'contacted',
  'responded',
];

export function parseRule(v: unknown, path: Path = []): Rule {
  if (!isObject(v))
    throw new RuleError(
      path,
      `a rule must be a mapping (e.g. {field: city, op: '=', value: 北京市}), not ${describe(v)}`,
    );
  const key = RULE_KEYS.find((k) => k in v);
  if (!key) throw new RuleError(path, `unknown rule; a rule starts with one of: ${RULE_KEYS.join(', ')}`);
  if (key === 'field') return parseCompare(v, path);
  only(v, path, key === 'consent' ? ['consent', 'status'] : [key]);
  const value = v[key];
  const here = [...path, key];
  switch (key) {
    case 'all':
    case 'any': {
      if (!Array.isArray(value) || value.length === 0)
        throw new RuleError(here, `${key} takes a non-empty list of rules`);
      return { kind: key, rules: value.map((r, i) => parseRule(r, [...here, i])) };
    }
    case 'not':
      return { kind: 'not', rule: parseRule(value, here) };
    case 'birthday':
      if (value !== 'today' && value !== 'this_week' && value !== 'this_month')
        throw new RuleError(here, `birthday takes today, this_week or this_month, not ${describe(value)}`);
      return { kind: 'birthday', when: value };
    case 'joined':
    case 'last_order':
      if (!isObject(value))
        throw new RuleError(here, `${key} takes {within_days: N} or {more_than_days_ago: N}, not ${describe(value)}`);
      return { kind: key, ...days(value, here) };
    case 'orders':
      return parseOrders(value, here);
    case 'consent': {
      if (!CHANNELS.includes(value as Channel))
        throw new RuleError(here, `consent takes a channel (mail, email or sms), not ${describe(value)}`);
      const status = v.status ?? 'granted';
      if (status !== 'granted' && status !== 'denied')
        throw new RuleError([...path, 'status'], `status must be granted or denied, not ${describe(status)}`);
      return { kind: 'consent', channel: value as Channel, status };
    }
    case 'segment':
      if (typeof value !== 'string' || !value)
        throw new RuleError(here, `segment takes a segment name, not ${describe(value)}`);
      return { kind: 'segment', name: value };
    default:
      return parseHistory(key as 'contacted' | 'responded', value, here);
  }
}

/** Every `{ segment: NAME }` in a rule with its YAML path below the rule, as parseRule walked it. */
export function segmentReferences(rule: Rule, path: Path = []): { name: string; path: Path }[] {
  switch (rule.kind) {
    case 'all':
    case 'any':
      return rule.rules.flatMap((r, i) => segmentReferences(r, [...path, rule.kind, i]));
    case 'not':
      return segmentReferences(rule.rule, [...path, 'not']);
    case 'segment':
      return [{ name: rule.name, path: [...path, 'segment'] }];
    default:
      return [];
  }
}

/** Names of the segments a rule refers to, for cycle detection. */
export function referencedSegments(rule: Rule): string[] {
  switch (rule.kind) {
    case 'all':
    case 'any':
      return rule.rules.flatMap(referencedSegments);
    case 'not':
      return referencedSegments(rule.rule);
    case 'segment':
      return [rule.name];
    default:
      return [];
  }
}
