// Property: for random rule trees with hostile values, the compiler either refuses the rule with
// a clear error, or produces SQL that runs and selects exactly the customers a plain TypeScript
// reading of the rules selects, over the same seeded data.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRule } from '../../pipeline/audience/compile.ts';
import { RuleError, parseRule } from '../../pipeline/audience/rules.ts';
import { builtinSegments } from '../../pipeline/audience/segments.ts';
import { runSeed } from '../../dev/seed/run-seed.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { evaluate, loadReferenceData, type RefCustomer } from '../helpers/reference-segments.ts';

const AS_OF = new Date('2026-06-15T02:00:00Z');
const TEXT_FIELDS = [
  'city',
  'province',
  'full_name',
  'gender',
  'country',
  'postal_code',
  'district',
  'attributes.notes',
  'member_level',
  'tier',
  'locale',
  'email',
];
const HOSTILE = [
  "'; drop table customers; --",
  "' or '1'='1",
  '%',
  '_',
  '\\',
  '"',
  '$1',
  '${x}',
  ';',
  '--',
  '/*',
  'NULL',
  '王',
  '😀',
  'e\u0301',
  '\u202Eabc',
  'x'.repeat(3000),
  '北京市; delete from orders',
  '\t\n',
];

describe('segment compiler against a reference reading (property)', () => {
  let db: TestDatabase;
  let data: RefCustomer[];
  const registry = builtinSegments();
  const pools = new Map<string, string[]>();

  beforeAll(async () => {
    db = await createTestDatabase();
    await runSeed(db.sql, { customers: 400, seed: 21, asOf: AS_OF });
    // Customers whose own values are hostile.
    for (const [i, text] of HOSTILE.entries()) {
      await db.sql`insert into customers (external_id, full_name, city, attributes) values (${`H${i}`}, ${text}, ${text}, ${db.sql.json({ notes: text, annual_spend: i * 1000.5 })})`;
    }
    data = await loadReferenceData(db.sql);
    // Values from each field's own data, with case variants and pieces, so that rules often
    // match and near misses (case, prefixes) are tried.
    for (const field of TEXT_FIELDS) {
      const values = new Set<string>();
      for (const c of data) {
        const v = field.startsWith('attributes.')
          ? c.attributes[field.slice(11)]
          : field in c.columns
            ? c.columns[field]
            : c.attributes[field];
        if (typeof v === 'string' && values.size < 40) values.add(v);
      }
      const variants = [...values].flatMap((v) => [v, v.toLowerCase(), v.toUpperCase(), v.slice(0, 2), v.slice(1, 4)]);
      pools.set(
        field,
        [...new Set(variants)].filter((v) => !v.includes('\u0000')),
      );
    }
  });
  afterAll(() => db.drop());

  function arbitraries() {
    const text = fc.oneof(
      fc.constantFrom(...HOSTILE),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.string({ maxLength: 4 }),
    );
    const textFor = (field: string) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...(pools.get(field)!.length ? pools.get(field)! : ['x'])) },
        { weight: 1, arbitrary: text },
      );
    const number = fc.oneof(
      fc.constantFrom(0, 20, 1000, 2000, 3000, 10000, 180000, 500000, 1e6, 5e6),
      fc.integer({ min: -1000, max: 2e7 }),
      fc.double({ min: -1e6, max: 1e7, noNaN: true }),
    );
    const date = fc
      .date({ min: new Date('1930-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
    const textField = fc.constantFrom(...TEXT_FIELDS);
    const numberField = fc.constantFrom(
      'annual_spend',
      'financial_assets',
      'stored_value_balance',
      'points',
      'cumulative_spend',
      'id',
    );
    const textOp = fc.constantFrom('=', '!=', 'contains', 'starts_with');
    const orderOp = fc.constantFrom('<', '<=', '>', '>=', '=', '!=');
    const leaf = fc.oneof(
      textField.chain((field) => fc.record({ field: fc.constant(field), op: textOp, value: textFor(field) })),
      textField.chain((field) =>
        fc.record({
          field: fc.constant(field),
          op: fc.constantFrom('in', 'not in'),
          value: fc.array(textFor(field), { minLength: 1, maxLength: 4 }),
        }),
      ),
      fc.record({ field: fc.oneof(textField, numberField), op: fc.constant('exists'), value: fc.boolean() }),
      fc.record({ field: numberField, op: orderOp, value: number }),
      fc.record({ field: numberField, op: fc.constant('between'), value: fc.tuple(number, number) }),
      fc.record({
        field: numberField,
        op: fc.constantFrom('in', 'not in'),
        value: fc.array(number, { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ field: fc.constant('birthday'), op: orderOp, value: date }),
      fc.record({ field: fc.constant('created_at'), op: fc.constantFrom('<', '>='), value: date }),
      fc.record({ consent: fc.constantFrom('mail', 'email', 'sms'), status: fc.constantFrom('granted', 'denied') }),
      fc.record({
        orders: fc.record({
          metric: fc.constantFrom('count', 'sum', 'max_amount', 'days_since_last'),
          op: orderOp,
          value: fc.integer({ min: 0, max: 3000 }),
          within_days: fc.constantFrom(30, 90, 365, 2000),
        }),
      }),
      fc.record({
        last_order: fc.oneof(
          fc.record({ within_days: fc.integer({ min: 0, max: 400 }) }),
          fc.record({ more_than_days_ago: fc.integer({ min: 0, max: 400 }) }),
          fc.record({
            within_days: fc.integer({ min: 0, max: 400 }),
            more_than_days_ago: fc.integer({ min: 0, max: 400 }),
          }),
        ),
      }),
      fc.record({
        joined: fc.oneof(
          fc.record({ within_days: fc.integer({ min: 0, max: 3000 }) }),
          fc.record({ more_than_days_ago: fc.integer({ min: 0, max: 3000 }) }),
          fc.record({
            within_days: fc.integer({ min: 0, max: 3000 }),
            more_than_days_ago: fc.integer({ min: 0, max: 3000 }),
          }),
        ),
      }),
      fc.record({
        segment: fc.constantFrom('dormant-members', 'tier-vip', 'member-red', 'key-accounts', 'dormant-low-balance'),
      }),
      // Ill-typed on purpose: the compiler must refuse these with a clear message.
      fc.record({ field: numberField, op: textOp, value: text }),
      fc.record({ field: textField, op: fc.constantFrom('<', '>'), value: text }),
    );
    const { rule } = fc.letrec<{ rule: unknown }>((tie) => ({
      rule: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.record({ all: fc.array(tie('rule'), { minLength: 1, maxLength: 3 }) }),
        fc.record({ any: fc.array(tie('rule'), { minLength: 1, maxLength: 3 }) }),
        fc.record({ not: tie('rule') }),
      ),
    }));
    return rule;
  }

  it('selects exactly what the reference selects, or refuses the rule with a message naming where', async () => {
    let compiled = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(arbitraries(), async (raw) => {
        let rule;
        try {
          rule = parseRule(raw, ['rules']);
        } catch (error) {
          expect(error).toBeInstanceOf(RuleError);
          expect((error as RuleError).path[0]).toBe('rules');
          expect((error as RuleError).message.length).toBeGreaterThan(10);
          refused++;
          return;
        }
        const where = compileRule({ sql: db.sql, registry, asOf: AS_OF }, rule);
        const rows = await db.sql<{ id: number }[]>`select c.id from customers c where ${where} order by c.id`;
        const expected = data.filter((c) => evaluate(c, rule, registry, AS_OF)).map((c) => c.id);
        expect(rows.map((r) => r.id)).toEqual(expected);
        compiled++;
      }),
      { numRuns: 400 },
    );
    // Both paths were exercised, and the tables are intact.
    expect(compiled).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(5);
    const [{ n }] = (await db.sql`select count(*)::int as n from customers`) as unknown as [{ n: number }];
    expect(n).toBe(data.length);
  });
});
