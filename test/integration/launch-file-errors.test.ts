// `mailroom launch` on a campaign file with mistakes: it exits 3 before touching anything and
// names the file, the line and the field of each mistake, as a user sees it in the terminal.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type Sql } from '../../db/connection.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';

describe('mailroom launch on a campaign file with mistakes', () => {
  const tag = randomBytes(3).toString('hex');
  const dir = tempDir('mailroom-launch-errors-');
  // The stack's own database and Temporal, as `mailroom launch` finds them.
  const env = { DATABASE_URL: '', TEMPORAL_ADDRESS: '' };
  let sql: Sql;
  const write = (name: string, lines: string[]) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, lines.join('\n'));
    return file;
  };

  beforeAll(() => {
    sql = connectDatabase(inject('databaseUrl'), { max: 1 });
  });
  afterAll(() => sql.end());

  it('reports every schema mistake at once with file:line and field path, exit 3, nothing registered', async () => {
    const file = write(`mistakes-${tag}`, [
      `name: mistakes-${tag}`,
      'audience: { segment: key-accounts }',
      'response_kinds: [click, ordr]',
      'currency: rmb',
      'waves:',
      '  - name: letter',
      '    channel: mial',
      '    template: wealth-letter',
      '  - { name: reminder, channel: email, template: wealth-reminder-email, after: 7days }',
    ]);
    const run = await runCli(['launch', file], env);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(
      run.stderr
        .trim()
        .replace(/^error: /, '')
        .split('\n')
        .sort(),
    ).toEqual(
      [
        `${file}:3: response_kinds[1]: Invalid option: expected one of "click"|"purl_visit"|"qr_scan"|"sms_reply"|"coupon_redemption"|"branch_visit"|"call_outcome"|"appointment"|"order"`,
        `${file}:4: currency: an ISO 4217 code such as CNY, EUR or USD`,
        `${file}:7: waves[0].channel: Invalid option: expected one of "mail"|"email"|"sms"|"call"`,
        `${file}:9: waves[1].after: a duration such as 90s, 30m, 36h, 7d or 2w`,
      ].sort(),
    );
    expect(await sql`select 1 from campaigns where slug = ${`mistakes-${tag}`}`).toHaveLength(0);
  });

  it('names a wave target that is no segment, with the known ones, exit 3 (also with --dry-run)', async () => {
    const file = write(`vips-${tag}`, [
      `name: vips-${tag}`,
      'audience: { segment: key-accounts }',
      'waves:',
      '  - { name: reminder, channel: email, template: wealth-reminder-email }',
      '  - { name: vip-call, channel: sms, template: wealth-last-call-sms, to: vips }',
    ]);
    for (const args of [
      ['launch', file],
      ['launch', file, '--dry-run', '--json'],
    ]) {
      const run = await runCli(args, env);
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim()).toMatch(
        /^error: .*:5: waves\[1\]\.to: "vips" is neither all, non-responders, responders nor a known segment \(known: [^)]*\btier-vip\b[^)]*\bkey-accounts\b[^)]*\)$/,
      );
      expect(run.stderr).toContain(`${file}:5:`);
    }
    expect(await sql`select 1 from campaigns where slug = ${`vips-${tag}`}`).toHaveLength(0);
  });

  it('names an unknown segment inside audience.rules with its line and the known segments, exit 3 (also with --dry-run)', async () => {
    const file = write(`inner-vips-${tag}`, [
      `name: inner-vips-${tag}`,
      'audience:',
      '  rules:',
      '    all:',
      '      - { field: country, op: "=", value: CN }',
      '      - { segment: vips }',
      'waves:',
      '  - { name: reminder, channel: email, template: wealth-reminder-email }',
    ]);
    for (const args of [
      ['launch', file],
      ['launch', file, '--dry-run', '--json'],
    ]) {
      const run = await runCli(args, env);
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr).not.toContain('Cannot read properties');
      expect(run.stderr.trim()).toMatch(
        /^error: .*:6: audience\.rules\.all\[1\]\.segment: unknown segment "vips"\. Known: .*\btier-vip\b.*\bkey-accounts\b/,
      );
      expect(run.stderr).toContain(`${file}:6:`);
    }
    expect(await sql`select 1 from campaigns where slug = ${`inner-vips-${tag}`}`).toHaveLength(0);
  });
});
