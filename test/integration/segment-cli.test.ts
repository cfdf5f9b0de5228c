import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSeed } from '../../dev/seed/run-seed.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/wealth-month.yaml', import.meta.url));

describe('mailroom segment preview', () => {
  let db: TestDatabase;
  const dir = tempDir();
  beforeAll(async () => {
    db = await createTestDatabase();
    await runSeed(db.sql, { customers: 3000, seed: 9 });
  });
  afterAll(() => db.drop());

  it("previews the example campaign's audience: top 500 in three bands, holdout, variants; writes nothing", async () => {
    const run = await runCli(['segment', 'preview', EXAMPLE, '--json', '--limit', '3', '--explain'], {
      DATABASE_URL: db.url,
    });
    expect(run.code, run.stderr).toBe(0);
    const preview = JSON.parse(run.stdout);
    expect(preview.counts.contactable + preview.counts.holdout).toBe(500);
    expect(preview.counts.bands).toEqual({ 'gift-appliance': 60, 'gift-oil': 100, 'asset-plan': 340 });
    expect(Object.keys(preview.counts.variants).sort()).toEqual(['gift-first', 'plan-first']);
    expect(preview.sample).toHaveLength(3);
    expect(preview.sample[0]).toMatchObject({ rank: 1, band: 'gift-appliance' });
    expect(preview.sql).toMatch(/\$1/);
    expect(preview.sql).not.toContain('CN');
    expect(preview.plan).toMatch(/Scan/);
    const [{ n }] = (await db.sql`select count(*)::int as n from campaign_members`) as unknown as [{ n: number }];
    expect(n).toBe(0);
  });

  it("warns that the sample campaign's holdout is too small to show the lift it expects", async () => {
    const run = await runCli(['segment', 'preview', EXAMPLE, '--limit', '1'], { DATABASE_URL: db.url });
    expect(run.code, run.stderr).toBe(0);
    const json = JSON.parse(
      (await runCli(['segment', 'preview', EXAMPLE, '--json', '--limit', '1'], { DATABASE_URL: db.url })).stdout,
    );
    const { holdout } = json.counts;
    expect(json.power).toMatchObject({ holdout, warn: true, expected_response: 0.05, expected_lift: 0.03 });
    expect(json.power.minimum_detectable_lift).toBeGreaterThan(0.03);
    const points = Math.round(json.power.minimum_detectable_lift * 100);
    expect(run.stdout).toContain(
      `Warning: a holdout of ${holdout} can only detect a lift of about ${points} points over a 5 % response rate`,
    );
  });

  it('previews a named built-in segment and prints a readable table', async () => {
    const run = await runCli(['segment', 'preview', '--segment', 'dormant-members', '--channel', 'email'], {
      DATABASE_URL: db.url,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^segment dormant-members on channel email: \d+ members, \d+ to contact/);
    expect(run.stdout).toContain('Suppressed, by reason:');
    expect(run.stdout).toContain('no_consent');
  });

  it('stops at a bad rule with exit code 3, naming the file, the line and the path', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'name: bad',
        'audience:',
        '  rules:',
        '    all:',
        '      - { field: city, op: "=", value: 北京市 }',
        '      - { field: wealth, op: ">", value: 1 }',
      ].join('\n'),
    );
    const run = await runCli(['segment', 'preview', file], { DATABASE_URL: db.url });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:6: audience\\.rules\\.all\\[1\\]\\.field: unknown field "wealth"`,
      ),
    );
    const unknown = await runCli(['segment', 'preview', '--segment', 'nope'], { DATABASE_URL: db.url });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/unknown segment "nope"\. Known: tier-diamond/);
  });
});
