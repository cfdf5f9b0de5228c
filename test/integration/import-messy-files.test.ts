// Messy files as CRMs and spreadsheets produce them: each bad row costs only itself, through the
// real CLI into a real database.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { csvText, parseRejects, tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const quoteAll = (row: string[]) => row.map((f) => `"${f.replaceAll('"', '""')}"`).join(',');

describe('mailroom import customers: messy files', () => {
  let db: TestDatabase;
  let dir: string;
  const cli = (args: string[]) =>
    runCli(['import', 'customers', ...args, '--json'], { DATABASE_URL: db.url }, { timeoutMs: 600_000 });
  const count = async (prefix: string) => {
    const [{ n }] =
      (await db.sql`select count(*)::int as n from customers where external_id like ${prefix + '%'}`) as unknown as [
        { n: number },
      ];
    return n;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = tempDir();
  });
  afterAll(() => db.drop());

  it('a stray quote rejects its own row only; the rows after it are read as themselves', async () => {
    const header = ['external_id', 'full_name', 'city'];
    const rows = Array.from({ length: 1000 }, (_, i) => [`SQ${i + 1}`, `王${i + 1}`, '北京市']);
    const lines = [quoteAll(header), ...rows.map(quoteAll)];
    // Row 3 loses the closing quote of its last value: the quote then runs into the next line.
    lines[3] = lines[3]!.slice(0, -1);
    const file = join(dir, 'stray.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const run = await cli([file]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ read: 1000, inserted: 999, updated: 0, rejected: 1 });
    const rejects = parseRejects(readFileSync(summary.rejectsPath, 'utf8'));
    expect(rejects.map((r) => [r.row, r.line])).toEqual([['4', '4']]);
    expect(rejects[0]!.reason).toMatch(/stray quote|not closed/);
    expect(rejects[0]!.raw_record).toBe('"SQ3","王3","北京市');
    expect(await count('SQ')).toBe(999);

    // The same in a file whose values are not quoted: the quote would otherwise run to the end.
    const plain = rows.map((r) => r.join(','));
    plain[2] = 'SP3,"王3,北京市';
    const file2 = join(dir, 'stray-plain.csv');
    writeFileSync(file2, ['external_id,full_name,city', ...plain.map((l) => l.replace(/^SQ/, 'SP'))].join('\n'));
    const run2 = JSON.parse((await cli([file2])).stdout);
    expect(run2).toMatchObject({ read: 1000, inserted: 999, rejected: 1 });
  }, 180_000); // two CLI runs: each starts a Node process, slow on a busy machine

  it('a value longer than the limit (5 MB) rejects its row without swallowing its neighbours', async () => {
    const lines = ['external_id,full_name,notes', 'OV1,甲,a', 'OV2,乙,b', `OV3,丙,"${'x'.repeat(5_000_000)}"`];
    for (let i = 4; i <= 7; i++) lines.push(`OV${i},丁${i},"fine, quoted"`);
    const file = join(dir, 'oversized.csv');
    writeFileSync(file, lines.join('\r\n') + '\r\n');
    const summary = JSON.parse((await cli([file])).stdout);
    expect(summary).toMatchObject({ read: 7, inserted: 6, updated: 0, rejected: 1 });
    const rejects = parseRejects(readFileSync(summary.rejectsPath, 'utf8'));
    expect(rejects.map((r) => [r.row, r.reason])).toEqual([
      ['4', expect.stringMatching(/^column 3: a value longer than 100,000 characters/)],
    ]);
    const stored = await db.sql`select external_id from customers where external_id like 'OV%' order by 1`;
    expect(stored.map((r) => r.external_id)).toEqual(['OV1', 'OV2', 'OV4', 'OV5', 'OV6', 'OV7']);
  });

  it('reads CR-only line ends (old Mac exports), with Chinese headers', async () => {
    const rows = [['客户编号', '姓名', '城市', '省份']];
    for (let i = 1; i <= 1000; i++) rows.push([`CR${i}`, `李${i}`, '北京市', '北京市']);
    const file = join(dir, 'cr.csv');
    writeFileSync(file, csvText(rows).replaceAll('\n', '\r'));
    const run = await cli([file]);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 1000, inserted: 1000, rejected: 0 });
    const [c] = await db.sql`select full_name, city from customers where external_id = 'CR1000'`;
    expect(c).toEqual({ full_name: '李1000', city: '北京市' });
  });

  it('reads a file of UTF-8 and GBK lines (two exports concatenated), deciding per line', async () => {
    const header = csvText([['客户编号', '姓名', '地址']]);
    const utf8Rows = Array.from({ length: 990 }, (_, i) => [`MX${i + 1}`, `王晓明${i}`, '建国门内大街18号']);
    const gbkRows = Array.from({ length: 10 }, (_, i) => [`MX${991 + i}`, `李娜${i}`, '中山路1号']);
    const file = join(dir, 'mixed-encodings.csv');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from(header + csvText(utf8Rows), 'utf8'), iconv.encode(csvText(gbkRows), 'gbk')]),
    );
    const summary = JSON.parse((await cli([file])).stdout);
    expect(summary).toMatchObject({ read: 1000, inserted: 1000, rejected: 0, encoding: 'utf8+gbk' });
    const rows = await db.sql`
      select external_id, full_name, address_line1 from customers where external_id in ('MX1', 'MX990', 'MX991', 'MX1000') order by id`;
    expect(rows.map((r) => [r.external_id, r.full_name, r.address_line1])).toEqual([
      ['MX1', '王晓明0', '建国门内大街18号'],
      ['MX990', '王晓明989', '建国门内大街18号'],
      ['MX991', '李娜0', '中山路1号'],
      ['MX1000', '李娜9', '中山路1号'],
    ]);
  });

  it('accepts only ISO 3166-1 country codes', async () => {
    const file = join(dir, 'countries.csv');
    writeFileSync(
      file,
      csvText([
        ['external_id', 'full_name', 'country'],
        ['CT1', 'Emma Wright', 'GB'],
        ['CT2', 'Ana Silva', 'XX'],
        ['CT3', 'Li Na', 'cn'],
        ['CT4', 'Jo Bloggs', 'UK'],
        ['CT5', 'Zed', 'ZZ'],
      ]),
    );
    const summary = JSON.parse((await cli([file])).stdout);
    expect(summary).toMatchObject({ read: 5, inserted: 3, rejected: 2 });
    const reasons = parseRejects(readFileSync(summary.rejectsPath, 'utf8')).map((r) => [r.row, r.reason]);
    expect(reasons).toEqual([
      ['3', 'country: "XX" is not an ISO 3166-1 country code (such as CN, HK, US or GB)'],
      ['6', 'country: "ZZ" is not an ISO 3166-1 country code (such as CN, HK, US or GB)'],
    ]);
    const stored = await db.sql`select external_id, country from customers where external_id like 'CT%' order by 1`;
    expect(stored.map((r) => [r.external_id, r.country])).toEqual([
      ['CT1', 'GB'],
      ['CT3', 'CN'],
      ['CT4', 'GB'],
    ]);
  });

  it('rejects control characters in names, salutations and address lines, naming the field', async () => {
    const file = join(dir, 'controls.csv');
    writeFileSync(
      file,
      csvText([
        ['external_id', 'full_name', 'salutation', 'address_line1', 'address_line2'],
        ['CC1', '王\n晓明', '', '', ''],
        ['CC2', '王晓明', '尊敬的\r王先生', '', ''],
        ['CC3', '李娜', '', '中山路\r1号', ''],
        ['CC4', '李\t娜', '', '', ''],
        ['CC5', '赵六', '', '', '3栋\u0007201室'],
        ['CC6', '钱七', '尊敬的钱先生', '人民路1号', '2栋'],
        // A line break within an address line is kept, as the letter prints it.
        ['CC7', '孙八', '', '人民路1号\n2栋', ''],
      ]),
    );
    const summary = JSON.parse((await cli([file])).stdout);
    expect(summary).toMatchObject({ read: 7, inserted: 2, rejected: 5 });
    const reasons = parseRejects(readFileSync(summary.rejectsPath, 'utf8')).map((r) => [r.row, r.reason]);
    expect(reasons).toEqual([
      ['2', expect.stringMatching(/^full_name: "王\\n晓明" contains a line break \(LF\)/)],
      ['3', expect.stringMatching(/^salutation: "尊敬的\\r王先生" contains a carriage return \(CR\)/)],
      ['4', 'address_line1: "中山路\\r1号" contains a carriage return (CR)'],
      ['5', expect.stringMatching(/^full_name: "李\\t娜" contains a tab/)],
      ['6', 'address_line2: "3栋\\u0007201室" contains the control character U+0007'],
    ]);
    const stored = await db.sql`select external_id from customers where external_id like 'CC%' order by 1`;
    expect(stored.map((r) => r.external_id)).toEqual(['CC6', 'CC7']);
  });

  it('imports a postal code of another province with a warning in the warnings file', async () => {
    const file = join(dir, 'postal.csv');
    writeFileSync(
      file,
      csvText([
        ['external_id', 'full_name', 'province', 'postal_code'],
        ['PW1', '王晓明', '北京市', '100005'],
        ['PW2', '李娜', '江苏省', '100005'],
        ['PW3', 'Emma', 'Guangdong', '510000'],
        ['PW4', 'Tom', 'Sichuan', '310000'],
      ]),
    );
    const run = await runCli(['import', 'customers', file], { DATABASE_URL: db.url });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Rows imported with a warning \(2\)/);
    expect(await count('PW')).toBe(4);
    const warnings = parseRejects(readFileSync(join(dir, 'postal.warnings.csv'), 'utf8'));
    expect(warnings.map((w) => [w.row, w.warning, w.external_id])).toEqual([
      ['3', 'postal_code "100005" is not a postal code of 江苏省 (its codes start with 21 or 22)', 'PW2'],
      ['5', 'postal_code "310000" is not a postal code of Sichuan (its codes start with 61 or 62 or 63 or 64)', 'PW4'],
    ]);
  });

  it('100,000 rows with 10 % bad rows of many kinds: every good row stored, every bad one rejected with a reason; a re-import changes nothing', async () => {
    const header = [
      'external_id',
      'full_name',
      'phone',
      'email',
      'country',
      'postal_code',
      'birthday',
      'address_line1',
    ];
    const lines: string[] = [header.join(',')];
    const good: string[] = [];
    const bad = new Map<number, RegExp>();
    const kinds: [RegExp, (i: number) => string][] = [
      [/email: "x\d+@" is not a valid email address/, (i) => `BG${i},王${i},,x${i}@,CN,,,`],
      [/phone: "12345" is not a valid phone number/, (i) => `BG${i},王${i},12345,,CN,,,`],
      [/country: "XX" is not an ISO 3166-1 country code/, (i) => `BG${i},王${i},,,XX,,,`],
      [/postal_code: "9999" is not a valid postal code for CN/, (i) => `BG${i},王${i},,,CN,9999,,`],
      [/birthday: "2001-02-30" is not a real calendar date/, (i) => `BG${i},王${i},,,,,2001-02-30,`],
      [/has 9 values but the header has 8 columns/, (i) => `BG${i},王${i},,,,,,,extra`],
      [/full_name: "王\\n\d+" contains a line break/, (i) => `BG${i},"王\n${i}",,,,,,`],
      [/stray quote|not closed/, (i) => `BG${i},"王${i},,,,,,`],
      [/external_id: is required but empty/, (i) => `,王${i},,,,,,`],
      [/external_id: "BG1" appears on an earlier row of this file/, () => `BG1,重复,,,,,,`],
    ];
    for (let i = 1; i <= 100_000; i++) {
      const row = i + 1;
      if (i % 10 === 5) {
        const [reason, make] = kinds[Math.floor(i / 10) % kinds.length]!;
        lines.push(make(i));
        bad.set(row, reason);
      } else {
        lines.push(
          `BG${i},王${i},139${String(i).padStart(8, '0')},w${i}@example.com,CN,100005,1980-01-01,"人民路${i}号"`,
        );
        good.push(`BG${i}`);
      }
    }
    const file = join(dir, 'big.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const run = await cli([file]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ read: 100_000, inserted: 90_000, updated: 0, rejected: 10_000 });
    const rejects = parseRejects(readFileSync(summary.rejectsPath, 'utf8'));
    expect(rejects).toHaveLength(10_000);
    for (const r of rejects) expect(r.reason).toMatch(bad.get(Number(r.row))!);
    expect(new Set(rejects.map((r) => Number(r.row)))).toEqual(new Set(bad.keys()));
    const stored = await db.sql`select external_id from customers where external_id like 'BG%'`;
    expect(new Set(stored.map((r) => r.external_id))).toEqual(new Set(good));

    const snapshot = () => db.sql`
      select external_id, full_name, phone, email, country, postal_code, birthday, address_line1, attributes, locale, timezone
      from customers where external_id like 'BG%' order by external_id`;
    const before = await snapshot();
    const again = JSON.parse((await cli([file])).stdout);
    expect(again).toMatchObject({ read: 100_000, inserted: 0, updated: 90_000, rejected: 10_000 });
    expect(await snapshot()).toEqual(before);
  }, 600_000);
});
