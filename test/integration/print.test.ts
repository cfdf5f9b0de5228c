import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { parseRejects as parseCsv, tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const TEMPLATES = fileURLToPath(new URL('../../templates', import.meta.url));
const tool = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const MM = 72 / 25.4;

function campaignFile(dir: string, extra = ''): string {
  const file = join(dir, 'campaign.yaml');
  writeFileSync(
    file,
    [
      'name: print-test',
      'title: Print test',
      'owner: 测试支行',
      'audience:',
      "  rules: { field: external_id, op: starts_with, value: 'P-' }",
      '  channel: mail',
      'waves:',
      '  - { name: letter, channel: mail, template: wealth-letter }',
      '  - { name: card, channel: mail, template: member-postcard }',
      '  - { name: reminder, channel: email, template: wealth-reminder-email }',
      '  - { name: last-call, channel: sms, template: wealth-last-call-sms }',
      extra,
    ].join('\n'),
  );
  return file;
}

function boxes(pdf: string, page: number): Record<string, number[]> {
  const out = tool('pdfinfo', ['-box', '-f', String(page), '-l', String(page), pdf]);
  const result: Record<string, number[]> = {};
  for (const m of out.matchAll(/Page\s+\d+\s+(\w+):\s+([\d.\s]+)/g))
    result[m[1]!] = m[2]!.trim().split(/\s+/).map(Number);
  return result;
}

describe('print export and proofs', () => {
  let db: TestDatabase;
  const dir = tempDir('mailroom-print-');
  const env = () => ({ DATABASE_URL: db.url, MAILROOM_SECRET: 'test-secret', MAILROOM_HOME: join(dir, 'home') });

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.sql`
      insert into customers (external_id, full_name, family_name, gender, locale, email, phone, address_line1, address_line2, district, city, province, postal_code, country, timezone) values
        ('P-CN1', '王晓明', '王', 'male', 'zh-CN', 'wang@example.com', '+8613912345678', '建国门内大街18号', '3栋1201室', '东城区', '北京市', '北京市', '100005', 'CN', 'Asia/Shanghai'),
        ('P-CN2', '李娜', '李', 'female', 'zh-CN', 'li@example.com', '+8613812345678', '南京东路100号', null, '黄浦区', '上海市', '上海市', '200001', 'CN', 'Asia/Shanghai'),
        ('P-GB', 'Emma Wright', 'Wright', 'female', 'en', 'emma@example.com', '+447911123456', '107 Park Road', 'Flat 9', null, 'London', null, 'SW1A 2AA', 'GB', 'Europe/London'),
        ('P-HOSTILE', ${`<script>alert("x")</script> 😀 ${'長'.repeat(190)}`}, null, 'unknown', 'zh-CN', 'evil@example.com', null, ${'"quoted", and <b>'.repeat(20)}, null, null, '北京市', '北京市', '100001', 'CN', 'Asia/Shanghai')`;
  });
  afterAll(() => db.drop());

  it('writes print-ready PDFs in postal-code order with a manifest that matches the pages', async () => {
    const out = join(dir, 'out1');
    const run = await runCli(
      [
        'print',
        '--allow-local-links',
        campaignFile(dir),
        '--wave',
        'letter',
        '--out',
        out,
        '--per-file',
        '3',
        '--json',
        '--as-of',
        '2026-12-01',
      ],
      env(),
    );
    expect(run.code, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout);
    expect(job).toMatchObject({
      campaign: 'print-test',
      wave: 'letter',
      pieces: 4,
      pages: 4,
      page_size: 'A4',
      bleed_mm: 3,
      crop_marks: true,
    });
    expect(job.files.map((f: { pieces: number }) => f.pieces)).toEqual([3, 1]);
    expect(JSON.parse(readFileSync(join(out, 'job.json'), 'utf8'))).toEqual(job);
    const manifest = parseCsv(readFileSync(join(out, 'manifest.csv'), 'utf8'));
    expect(manifest.map((r) => r.postal_code)).toEqual(['100001', '100005', '200001', 'SW1A 2AA']);
    expect(manifest.map((r) => r.sequence)).toEqual(['1', '2', '3', '4']);
    for (const f of job.files) {
      const pdf = join(out, f.file);
      expect(createHash('sha256').update(readFileSync(pdf)).digest('hex')).toBe(f.sha256);
      expect(spawnSync('qpdf', ['--check', pdf]).status).toBe(0);
      const fonts = tool('pdffonts', [pdf]).trim().split('\n').slice(2);
      expect(fonts.length).toBeGreaterThan(0);
      for (const line of fonts) expect(line.split(/\s+/).slice(-5, -2)).toEqual(['yes', 'yes', 'yes']);
      expect(Number(/Pages:\s+(\d+)/.exec(tool('pdfinfo', [pdf]))![1])).toBe(f.pages);
    }
    // Each piece's name and postal code are on its own page.
    for (const row of manifest.filter((r) => r.external_id !== 'P-HOSTILE')) {
      const text = tool('pdftotext', [
        '-f',
        row.first_page!,
        '-l',
        row.first_page!,
        '-layout',
        join(out, row.file!),
        '-',
      ]);
      expect(text).toContain(row.name);
      expect(text).toContain(row.postal_code);
      expect(text).toContain(row.response_code);
    }
    expect(manifest.find((r) => r.external_id === 'P-CN1')).toMatchObject({
      address_1: '100005',
      address_2: '北京市东城区建国门内大街18号',
      address_4: '王晓明 先生 收',
      page_count: '1',
    });
    expect(manifest.find((r) => r.external_id === 'P-GB')).toMatchObject({
      address_1: 'Ms Emma Wright',
      address_3: 'London SW1A 2AA',
      address_4: 'United Kingdom',
    });
  });

  it('counts pieces in job.json when called without a progress callback (as the workflow will)', async () => {
    const { loadCampaign } = await import('../../pipeline/campaign/campaign-file.ts');
    const { exportPrint } = await import('../../pipeline/render/print/export.ts');
    const job = await exportPrint(db.sql, loadCampaign(campaignFile(dir)), {
      out: join(dir, 'api'),
      wave: 'letter',
      perFile: 3,
      asOf: new Date('2026-12-01T00:00:00Z'),
      secret: 's',
      trackingUrl: 'https://go.example.com',
    });
    expect(job).toMatchObject({ pieces: 4, pages: 4 });
    expect(JSON.parse(readFileSync(join(dir, 'api', 'job.json'), 'utf8'))).toMatchObject({ pieces: 4 });
  });

  it('sets MediaBox ⊇ BleedBox ⊇ TrimBox with 3 mm of bleed on every page, for letters and postcards', async () => {
    const out = join(dir, 'boxes');
    const letter = await runCli(
      ['print', '--allow-local-links', campaignFile(dir), '--wave', 'letter', '--out', out, '--json'],
      env(),
    );
    const card = await runCli(
      ['print', '--allow-local-links', campaignFile(dir), '--wave', 'card', '--out', join(out, 'card'), '--json'],
      env(),
    );
    const cases = [
      { job: JSON.parse(letter.stdout), dir: out, trim: [210, 297], pagesPerPiece: 1 },
      { job: JSON.parse(card.stdout), dir: join(out, 'card'), trim: [148, 105], pagesPerPiece: 2 },
    ];
    for (const c of cases) {
      expect(c.job.pages).toBe(4 * c.pagesPerPiece);
      const pdf = join(c.dir, c.job.files[0].file);
      for (let page = 1; page <= c.job.pages; page++) {
        const b = boxes(pdf, page);
        const [tx0, ty0, tx1, ty1] = b.TrimBox!;
        expect((tx1! - tx0!) / MM).toBeCloseTo(c.trim[0]!, 1);
        expect((ty1! - ty0!) / MM).toBeCloseTo(c.trim[1]!, 1);
        expect(
          b
            .BleedBox!.map((v, i) => (i < 2 ? b.TrimBox![i]! - v : v - b.TrimBox![i]!) / MM)
            .every((d) => Math.abs(d - 3) < 0.01),
        ).toBe(true);
        expect(b.MediaBox![0]).toBeLessThanOrEqual(b.BleedBox![0]!);
        expect(b.MediaBox![2]).toBeGreaterThanOrEqual(b.BleedBox![2]!);
      }
    }
  });

  it('gives byte-identical files for the same inputs', async () => {
    const a = join(dir, 'same-a');
    const b = join(dir, 'same-b');
    for (const out of [a, b])
      expect(
        (
          await runCli(
            [
              'print',
              '--allow-local-links',
              campaignFile(dir),
              '--wave',
              'letter',
              '--out',
              out,
              '--per-file',
              '2',
              '--as-of',
              '2026-12-01',
            ],
            env(),
          )
        ).code,
      ).toBe(0);
    const files = readdirSync(a).sort();
    expect(readdirSync(b).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
    // An earlier job in the folder is refused, or replaced whole with --force (no stale PDFs).
    const again = await runCli(
      ['print', '--allow-local-links', campaignFile(dir), '--wave', 'letter', '--out', a, '--per-file', '3'],
      env(),
    );
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already holds a print job .*pass --force to replace it/);
    writeFileSync(join(a, 'print-test-letter-009.pdf'), 'stale');
    const forced = await runCli(
      ['print', '--allow-local-links', campaignFile(dir), '--wave', 'letter', '--out', a, '--per-file', '3', '--force'],
      env(),
    );
    expect(forced.code, forced.stderr).toBe(0);
    expect(readdirSync(a).sort()).toEqual([
      'job.json',
      'manifest.csv',
      'print-test-letter-001.pdf',
      'print-test-letter-002.pdf',
    ]);
  }, 180_000); // four print runs, each a CLI start; a loaded machine takes longer than the default

  it('keeps hostile customer data inside its piece: one valid page, escaped in HTML email', async () => {
    const out = join(dir, 'proof');
    const run = await runCli(
      ['proof', campaignFile(dir), '--customer', 'P-HOSTILE', 'P-CN2', '--out', out, '--json', '--as-of', '2026-12-01'],
      env(),
    );
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(run.stdout);
    expect(results.map((r: { external_id: string }) => r.external_id).sort()).toEqual(['P-CN2', 'P-HOSTILE']);
    const hostile = join(out, 'P-HOSTILE');
    for (const pdf of ['letter-letter.pdf', 'card-letter.pdf'])
      expect(spawnSync('qpdf', ['--check', join(hostile, pdf)]).status).toBe(0);
    expect(Number(/Pages:\s+(\d+)/.exec(tool('pdfinfo', [join(hostile, 'letter-letter.pdf')]))![1])).toBe(1);
    const eml = readFileSync(join(hostile, 'email.eml'), 'utf8');
    expect(eml).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(eml).toMatch(/Content-Type: multipart\/alternative/);
    // Quoted-printable: =XX is a byte, a literal % stays one (the HTML's CSS has width:100%).
    const html = Buffer.from(
      /Content-Type: text\/html[\s\S]*?\r?\n\r?\n([\s\S]*?)\r?\n----/
        .exec(eml)![1]!
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
    expect(html).toContain('预约到访时间');
    expect(html).not.toContain('<script>');
    const sms = readFileSync(join(out, 'P-CN2', 'sms.txt'), 'utf8');
    expect(sms).toMatch(/^【财富管理月】李女士，/);
    expect(sms).toMatch(/encoding: UCS-2, \d+ UTF-16 units, [12] parts? \((70|67) per part\)/);
    expect(readdirSync(join(out, 'P-CN2')).sort()).toEqual([
      'card-letter.pdf',
      'card-letter.png',
      'email.eml',
      'letter-letter.pdf',
      'letter-letter.png',
      'sms.txt',
    ]);
  });

  it('places a logo and a per-recipient image named by an attribute', async () => {
    const withImages = join(dir, 'images');
    const tdir = join(withImages, 'templates', 'photo-card');
    cpSync(join(TEMPLATES, 'member-postcard'), tdir, { recursive: true });
    // A 1×1 PNG is enough to check placement.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    writeFileSync(join(tdir, 'logo.png'), png);
    writeFileSync(join(tdir, 'photo-1.png'), png);
    writeFileSync(
      join(tdir, 'template.yaml'),
      readFileSync(join(tdir, 'template.yaml'), 'utf8').replace(
        '      - { type: text, text: "{{campaign.name}}", x: 8, y: 8, width: 60, size: 8 }',
        '      - { type: text, text: "{{campaign.name}}", x: 8, y: 8, width: 60, size: 8 }\n      - { type: image, file: logo.png, x: 110, y: 5, width: 30 }\n      - { type: image, field: customer.attributes.photo, x: 8, y: 20, width: 20 }',
      ),
    );
    await db.sql`update customers set attributes = attributes || '{"photo": "photo-1.png"}' where external_id = 'P-CN1'`;
    const file = campaignFile(withImages).replace('campaign.yaml', 'campaign.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('template: member-postcard', 'template: photo-card'));
    const run = await runCli(
      ['print', '--allow-local-links', file, '--wave', 'card', '--out', join(withImages, 'out'), '--json'],
      env(),
    );
    expect(run.code, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout);
    // Rows of type "image" (the test PNG's alpha channel adds "smask" rows).
    const images = tool('pdfimages', ['-list', join(withImages, 'out', job.files[0].file)])
      .trim()
      .split('\n')
      .slice(2)
      .filter((l) => l.split(/\s+/)[3] === 'image');
    // One logo on the back of each of the 4 cards, plus P-CN1's own photo.
    expect(images).toHaveLength(5);
    await db.sql`update customers set attributes = attributes || '{"photo": "missing.png"}' where external_id = 'P-CN1'`;
    const missing = await runCli(
      ['print', '--allow-local-links', file, '--wave', 'card', '--out', join(withImages, 'out2')],
      env(),
    );
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(
      /customer P-CN1: customer\.attributes\.photo names .*missing\.png, which does not exist/,
    );
    await db.sql`update customers set attributes = attributes - 'photo' where external_id = 'P-CN1'`;
  });

  it('ends cleanly when a later piece fails in a render thread: exit 3, no job.json, no half-written file', async () => {
    const later = join(dir, 'later');
    const tdir = join(later, 'templates', 'caption-letter');
    cpSync(join(TEMPLATES, 'wealth-letter'), tdir, { recursive: true });
    writeFileSync(join(tdir, 'body.hbs'), '{{customer.attributes.caption}}\n');
    // Only the first member in postal-code order has the attribute, so the preflight passes.
    await db.sql`update customers set attributes = attributes || '{"caption": "hi"}' where external_id = 'P-HOSTILE'`;
    const file = campaignFile(later);
    writeFileSync(file, readFileSync(file, 'utf8').replace('template: wealth-letter', 'template: caption-letter'));
    const run = await runCli(
      ['print', '--allow-local-links', file, '--wave', 'letter', '--out', join(later, 'out'), '--per-file', '1'],
      env(),
    );
    await db.sql`update customers set attributes = attributes - 'caption' where external_id = 'P-HOSTILE'`;
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/caption-letter\/body\.hbs:1: "customer\.attributes\.caption" is not in the data/);
    expect(run.stderr).not.toMatch(/Unhandled|at async/);
    const left = readdirSync(join(later, 'out'));
    expect(left).not.toContain('job.json');
    for (const f of left.filter((x) => x.endsWith('.pdf')))
      expect(spawnSync('qpdf', ['--check', join(later, 'out', f)]).status).toBe(0);
  });

  it('stops before writing anything when a template uses a missing field or does not compile', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad, { recursive: true });
    cpSync(join(TEMPLATES, 'wealth-letter'), join(bad, 'templates', 'broken-letter'), { recursive: true });
    writeFileSync(
      join(bad, 'templates', 'broken-letter', 'body.hbs'),
      '尊敬的{{customer.salutation}}：\n\n您的积分：{{customer.attributes.loyalty_points}}\n',
    );
    const file = campaignFile(bad).replace('campaign.yaml', 'campaign.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('template: wealth-letter', 'template: broken-letter'));
    const missing = await runCli(
      ['print', '--allow-local-links', file, '--wave', 'letter', '--out', join(bad, 'out')],
      env(),
    );
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(
      `${join(bad, 'templates', 'broken-letter', 'body.hbs')}:3: "customer.attributes.loyalty_points" is not in the data a template gets`,
    );
    writeFileSync(
      join(bad, 'templates', 'broken-letter', 'body.hbs'),
      '尊敬的{{customer.salutation}}：\n{{#if offer}\n',
    );
    const broken = await runCli(
      ['print', '--allow-local-links', file, '--wave', 'letter', '--out', join(bad, 'out2')],
      env(),
    );
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/broken-letter\/body\.hbs:2: the template does not compile/);
    expect(readdirSync(bad)).not.toContain('out');
    expect(readdirSync(bad)).not.toContain('out2');
  });
});
