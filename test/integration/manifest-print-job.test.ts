// What `mailroom print` hands the print shop, on a real PostgreSQL: a manifest a spreadsheet can
// open safely (formula-like customer data neutralised as OWASP describes, a UTF-8 BOM so Excel
// reads the Chinese), a job.json that says how pieces are printed (pages per piece, sides,
// duplex, sheets), progress as it renders, and no links customers cannot reach.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { exportPrint } from '../../pipeline/render/print/export.ts';
import { SHIPPED_TEMPLATES } from '../../pipeline/render/templates.ts';
import { runCli } from '../helpers/cli.ts';
import { parseRejects as parseCsv, tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const HOSTILE_NAMES = ['=HYPERLINK("http://evil.example","点我")', '+86 cmd', '-2+3', '@SUM(1,2)', '\t=1', '＝1+1'];

describe('print files for the print shop', () => {
  let db: TestDatabase;
  const dir = tempDir('mailroom-manifest-');
  const file = join(dir, 'campaign.yaml');
  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    MAILROOM_SECRET: 'test-secret',
    MAILROOM_HOME: join(dir, 'home'),
    ...extra,
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    const people = [...HOSTILE_NAMES, '王晓明'];
    for (const [i, name] of people.entries())
      await db.sql`
        insert into customers (external_id, full_name, gender, locale, address_line1, city, province, postal_code, country, timezone)
        values (${`M-${i}`}, ${name}, 'unknown', 'zh-CN', ${i === 0 ? '=1+1' : `建国路${i}号`}, '北京市', '北京市',
                ${`10000${i}`}, 'CN', 'Asia/Shanghai')`;
    const duplexLetter = join(dir, 'templates', 'duplex-letter');
    cpSync(join(SHIPPED_TEMPLATES, 'wealth-letter'), duplexLetter, { recursive: true });
    const yaml = join(duplexLetter, 'template.yaml');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8').replace('  crop_marks: true\n', '  crop_marks: true\n  duplex: true\n'),
    );
    writeFileSync(
      file,
      [
        'name: manifest-test',
        'audience:',
        "  rules: { field: external_id, op: starts_with, value: 'M-' }",
        'waves:',
        '  - { name: letter, channel: mail, template: wealth-letter }',
        '  - { name: card, channel: mail, template: member-postcard }',
        '  - { name: both-sides, channel: mail, template: duplex-letter }',
      ].join('\n'),
    );
  });
  afterAll(() => db.drop());

  it('refuses to print links to a tracking server customers cannot reach, unless told to', async () => {
    const out = join(dir, 'local');
    const run = await runCli(
      ['print', file, '--wave', 'letter', '--out', out],
      env({ MAILROOM_TRACKING_URL: 'http://127.0.0.1:43997' }),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('http://127.0.0.1:43997');
    expect(run.stderr).toContain('MAILROOM_TRACKING_URL');
    expect(run.stderr).toContain('--allow-local-links');
    expect(existsSync(out)).toBe(false);
  });

  it('writes a manifest with a BOM and neutralised formula cells, and shows progress per file when not on a terminal', async () => {
    const out = join(dir, 'letter');
    const run = await runCli(
      ['print', file, '--wave', 'letter', '--out', out, '--per-file', '3', '--as-of', '2026-12-01'],
      env({ MAILROOM_TRACKING_URL: 'https://go.example.com' }),
    );
    expect(run.code, run.stderr).toBe(0);
    // Not a terminal: the total, then one line per file with the rate.
    expect(run.stderr).toContain('Rendering 7 pieces…');
    for (const [n, pieces] of [
      [1, 3],
      [2, 3],
      [3, 1],
    ])
      expect(run.stderr).toMatch(
        new RegExp(
          `manifest-test-letter-00${n}\\.pdf: ${pieces} pieces, ${pieces} pages \\(\\d/7 pieces, [\\d.]+ pieces/s\\)`,
        ),
      );
    expect(run.stdout).toMatch(/Wrote 7 pieces \(7 pages, 1 per piece, one side of 7 sheets, A4 portrait/);

    const bytes = readFileSync(join(out, 'manifest.csv'));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    // As OWASP describes: quoted, a leading single quote, inner quotes doubled.
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""点我"")"`);
    const rows = parseCsv(text);
    const names = rows.map((r) => r.name);
    for (const name of HOSTILE_NAMES) expect(names).toContain(`'${name}`);
    expect(names).toContain('王晓明');
    for (const row of rows)
      for (const [column, cell] of Object.entries(row))
        expect(/^[=+\-@\t\r＝＋－＠]/.test(cell!), `${column}: ${JSON.stringify(cell)}`).toBe(false);
    // A formula sign inside a cell starts nothing and is kept as it is (the street "=1+1").
    expect(rows.find((r) => r.external_id === 'M-0')!.address_2).toMatch(/^北京市.*=1\+1$/);
    // The letter itself prints the customer's name as it is.
    const first = rows.find((r) => r.external_id === 'M-0')!;
    const page = execFileSync(
      'pdftotext',
      ['-f', first.first_page!, '-l', first.first_page!, join(out, first.file!), '-'],
      { encoding: 'utf8' },
    );
    expect(page).toContain('=HYPERLINK');

    const job = JSON.parse(readFileSync(join(out, 'job.json'), 'utf8'));
    expect(job).toMatchObject({
      pieces: 7,
      pages: 7,
      pages_per_piece: { min: 1, max: 1 },
      duplex: false,
      sides_per_sheet: 1,
      sheets: 7,
    });
  });

  it('describes sides in job.json: a postcard is printed on both sides, a duplex letter gets a blank back', async () => {
    const campaign = loadCampaign(file);
    const common = {
      perFile: 100,
      asOf: new Date('2026-12-01T00:00:00Z'),
      secret: 's',
      trackingUrl: 'https://go.example.com',
    };
    const card = await exportPrint(db.sql, campaign, { ...common, wave: 'card', out: join(dir, 'card') });
    expect(card).toMatchObject({
      pieces: 7,
      pages: 14,
      pages_per_piece: { min: 2, max: 2 },
      duplex: true,
      sides_per_sheet: 2,
      sheets: 7,
    });
    const both = await exportPrint(db.sql, campaign, { ...common, wave: 'both-sides', out: join(dir, 'both') });
    expect(both).toMatchObject({
      pieces: 7,
      pages: 14,
      pages_per_piece: { min: 2, max: 2 },
      duplex: true,
      sides_per_sheet: 2,
      sheets: 7,
    });
    const rows = parseCsv(readFileSync(join(dir, 'both', 'manifest.csv'), 'utf8'));
    expect(rows.map((r) => [r.first_page, r.page_count])).toEqual([1, 3, 5, 7, 9, 11, 13].map((p) => [String(p), '2']));
    // Each piece's back is blank, so the next piece starts on a sheet of its own.
    const pdf = join(dir, 'both', both.files[0]!.file);
    expect(execFileSync('pdftotext', ['-f', '2', '-l', '2', pdf, '-'], { encoding: 'utf8' }).trim()).toBe('');
    expect(execFileSync('pdftotext', ['-f', '3', '-l', '3', pdf, '-'], { encoding: 'utf8' })).toContain('回执编码');
  });
});
