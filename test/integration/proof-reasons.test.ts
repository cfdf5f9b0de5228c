// `mailroom proof` says where each customer stands and why, on a real PostgreSQL: in the
// audience, in the holdout, kept out (which suppression, consent or address), or outside the
// audience (the rules do not match, nothing to rank by, beyond the top N).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

interface Listed {
  external_id: string;
  status: string;
  reason: string | null;
  files: string[];
}

describe('mailroom proof: why a customer would or would not be contacted', () => {
  let db: TestDatabase;
  const dir = tempDir('mailroom-proof-reasons-');
  const env = () => ({
    DATABASE_URL: db.url,
    MAILROOM_SECRET: 'test-secret',
    MAILROOM_HOME: join(dir, 'home'),
    MAILROOM_TRACKING_URL: 'https://go.example.com',
  });
  const write = (name: string, lines: string[]) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, lines.join('\n'));
    return file;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const people: [string, number | null][] = [
      ['W-IN1', 900],
      ['W-SUP', 850],
      ['W-IN2', 800],
      ['W-NOC', 700],
      ['W-IN3', 600],
      ['W-LOW', 100],
      ['W-NONE', null],
      ['X-OUT', 950],
    ];
    for (const [ext, spend] of people)
      await db.sql`
        insert into customers (external_id, full_name, family_name, gender, locale, email, country, timezone, attributes)
        values (${ext}, ${`客户${ext}`}, '王', 'male', 'zh-CN', ${`${ext.toLowerCase()}@example.com`}, 'CN', 'Asia/Shanghai',
                ${spend === null ? db.sql`'{}'::jsonb` : db.sql`jsonb_build_object('annual_spend', ${spend}::numeric)`})`;
    await db.sql`
      insert into consents (customer_id, channel, status, source)
      select id, 'email', 'granted', 'test' from customers where external_id <> 'W-NOC'`;
    await db.sql`
      insert into suppressions (channel, address, reason, source) values ('email', 'w-sup@example.com', 'hard_bounce', 'test')`;
  });
  afterAll(() => db.drop());

  it('gives the reason for everyone who would get nothing', async () => {
    const file = write('ranked', [
      'name: proof-reasons',
      'audience:',
      "  rules: { field: external_id, op: starts_with, value: 'W-' }",
      '  top: { n: 3, by: annual_spend }',
      '  channel: email',
      'waves: [{ name: reminder, channel: email, template: wealth-reminder-email }]',
    ]);
    const ids = ['W-IN1', 'W-IN2', 'W-IN3', 'W-SUP', 'W-NOC', 'W-LOW', 'W-NONE', 'X-OUT'];
    const run = await runCli(
      ['proof', file, '--customer', ...ids, '--out', join(dir, 'out'), '--json', '--as-of', '2026-12-01'],
      env(),
    );
    expect(run.code, run.stderr).toBe(0);
    const listed = new Map((JSON.parse(run.stdout) as Listed[]).map((r) => [r.external_id, r]));
    expect(listed.size).toBe(ids.length);
    for (const id of ['W-IN1', 'W-IN2', 'W-IN3'])
      expect(listed.get(id)).toMatchObject({ status: 'in the audience', reason: null });
    expect(listed.get('W-SUP')).toMatchObject({
      status: 'excluded',
      reason: 'on the suppression list: hard_bounce (email, by address)',
    });
    expect(listed.get('W-NOC')).toMatchObject({ status: 'excluded', reason: 'no email consent granted' });
    expect(listed.get('W-LOW')).toMatchObject({
      status: 'not in the audience',
      reason: "matches the audience's rules but ranks beyond the top 3 by annual_spend",
    });
    expect(listed.get('W-NONE')).toMatchObject({
      status: 'not in the audience',
      reason: "matches the audience's rules but has no annual_spend to rank by",
    });
    expect(listed.get('X-OUT')).toMatchObject({
      status: 'not in the audience',
      reason: "does not match the audience's rules",
    });
    // Every customer still gets the proof of what they would have been sent.
    for (const r of listed.values()) expect(r.files.some((f) => f.endsWith('email.eml'))).toBe(true);

    // The listing a person reads shows the same reasons.
    const table = await runCli(['proof', file, '--customer', 'W-SUP', 'X-OUT', '--out', join(dir, 'out2')], env());
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/W-SUP\s+excluded\s+on the suppression list: hard_bounce \(email, by address\)/);
    expect(table.stdout).toMatch(/X-OUT\s+not in the audience\s+does not match the audience's rules/);
  });

  it('names the segment, and says who is in the holdout', async () => {
    const file = write('holdout', [
      'name: proof-holdout',
      'segments:',
      "  w-customers: { rules: { field: external_id, op: starts_with, value: 'W-' } }",
      'audience: { segment: w-customers, channel: email, holdout: 50% }',
      'waves: [{ name: reminder, channel: email, template: wealth-reminder-email }]',
    ]);
    const ids = ['W-IN1', 'W-IN2', 'W-IN3', 'W-LOW', 'W-NONE', 'X-OUT'];
    const run = await runCli(['proof', file, '--customer', ...ids, '--out', join(dir, 'out3'), '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const listed = JSON.parse(run.stdout) as Listed[];
    expect(listed.find((r) => r.external_id === 'X-OUT')).toMatchObject({
      status: 'not in the audience',
      reason: 'does not match segment w-customers',
    });
    const [row] = await db.sql<{ holdout: string[] }[]>`
      select coalesce(array_agg(external_id), '{}') as holdout from customers
      where external_id = any(${ids}) and external_id like 'W-%'
        and mailroom_hash_unit('proof-holdout:holdout:' || id::text) < 0.5`;
    const holdout = row!.holdout;
    expect(holdout.length).toBeGreaterThan(0);
    for (const r of listed.filter((x) => x.external_id !== 'X-OUT'))
      expect(r).toEqual(
        holdout.includes(r.external_id)
          ? expect.objectContaining({
              status: 'holdout',
              reason: 'in the holdout (50 % kept aside to measure lift): would not be contacted',
            })
          : expect.objectContaining({ status: 'in the audience', reason: null }),
      );
  });
});
