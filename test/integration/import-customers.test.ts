import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { parseRejects, tempDir, writeCsv } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const HEADER = [
  '客户编号',
  '姓名',
  '性别',
  '手机',
  '邮箱',
  '地址',
  '城市',
  '省份',
  '邮编',
  '生日',
  '年消费额',
  '会员等级',
  '备注',
  'consent_email',
];
const GOOD_ROWS = [
  [
    'C001',
    '王晓明',
    '男',
    '139 1234 5678',
    'Wang.XM@Example.com',
    '建国门内大街18号',
    '北京市',
    '北京市',
    '100005',
    '1980-05-12',
    '1,234,567.50',
    'Black',
    '老客户',
    '是',
  ],
  [
    'C002',
    '李娜',
    '女',
    '+86 138-0000-1111',
    'li.na@example.com',
    '中山路1号',
    '南京市',
    '江苏省',
    '210005',
    '1990/02/03',
    '5000',
    'Red',
    '',
    '否',
  ],
];

describe('mailroom import customers', () => {
  let db: TestDatabase;
  let dir: string;
  const cli = (args: string[]) => runCli(['import', 'customers', ...args, '--json'], { DATABASE_URL: db.url });

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = tempDir();
  });
  afterAll(() => db.drop());

  it('imports a good UTF-8 file with Chinese headers, normalising phones, emails and dates', async () => {
    const file = writeCsv(dir, 'good.csv', [HEADER, ...GOOD_ROWS]);
    const run = await cli([file]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      read: 2,
      inserted: 2,
      updated: 0,
      rejected: 0,
      rejectsPath: null,
      encoding: 'utf8',
      unmatchedColumns: ['备注'],
    });
    expect(existsSync(join(dir, 'good.rejects.csv'))).toBe(false);
    const [c] =
      await db.sql`select c.*, to_char(birthday, 'YYYY-MM-DD') as bday from customers c where external_id = 'C001'`;
    expect(c).toMatchObject({
      full_name: '王晓明',
      gender: 'male',
      phone: '+8613912345678',
      email: 'Wang.XM@example.com',
      postal_code: '100005',
      country: 'CN',
      timezone: 'Asia/Shanghai',
      locale: 'zh-CN',
      bday: '1980-05-12',
    });
    expect(c!.attributes).toEqual({ annual_spend: 1234567.5, member_level: 'Black', 备注: '老客户' });
    const consents =
      await db.sql`select c.external_id, k.status, k.source from consents k join customers c on c.id = k.customer_id where k.channel = 'email' order by 1`;
    expect(consents.map((r) => [r.external_id, r.status, r.source])).toEqual([
      ['C001', 'granted', 'import:good.csv'],
      ['C002', 'denied', 'import:good.csv'],
    ]);
  });

  it('updates on re-import by external_id and never blanks a stored value with an empty cell', async () => {
    const file = writeCsv(dir, 'update.csv', [
      ['external_id', 'name', 'email', 'annual_spend'],
      ['C001', '王晓明', '', '99'],
      ['C003', 'Emma Wright', 'emma@example.com', ''],
    ]);
    const run = await cli([file]);
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 2, inserted: 1, updated: 1, rejected: 0 });
    const [c] = await db.sql`select email, attributes from customers where external_id = 'C001'`;
    expect(c!.email).toBe('Wang.XM@example.com');
    expect(c!.attributes).toMatchObject({ annual_spend: 99, member_level: 'Black' });
    const [e] = await db.sql`select locale, country from customers where external_id = 'C003'`;
    expect(e).toEqual({ locale: 'en', country: 'CN' });
  });

  it('reads GBK and UTF-8-with-BOM files by detection', async () => {
    const gbk = writeCsv(dir, 'gbk.csv', [HEADER, ['G001', ...GOOD_ROWS[0]!.slice(1)]], 'gbk');
    const bom = writeCsv(dir, 'bom.csv', [HEADER, ['B001', ...GOOD_ROWS[1]!.slice(1)]], 'utf8-bom');
    const runGbk = await cli([gbk]);
    const runBom = await cli([bom]);
    expect(JSON.parse(runGbk.stdout)).toMatchObject({ read: 1, inserted: 1, rejected: 0, encoding: 'gbk' });
    expect(JSON.parse(runBom.stdout)).toMatchObject({ read: 1, inserted: 1, rejected: 0, encoding: 'utf8' });
    const rows =
      await db.sql`select external_id, full_name, address_line1 from customers where external_id in ('G001', 'B001') order by 1`;
    expect(rows.map((r) => [r.external_id, r.full_name, r.address_line1])).toEqual([
      ['B001', '李娜', '中山路1号'],
      ['G001', '王晓明', '建国门内大街18号'],
    ]);
    // Forcing the wrong encoding stops at the header instead of storing mojibake.
    const forced = await cli([gbk, '--encoding', 'utf8']);
    expect(forced.code).toBe(3);
    expect(forced.stderr).toMatch(/header line of .*gbk\.csv is not readable as utf8\. Leave --encoding out/);
    // A stray undecodable cell in an otherwise UTF-8 file is rejected with its row.
    const stray = join(dir, 'stray.csv');
    writeFileSync(
      stray,
      Buffer.concat([Buffer.from('external_id,name\nS1,ok\nS2,'), Buffer.from([0xcd, 0xf5]), Buffer.from('\n')]),
    );
    const strayRun = await cli([stray, '--encoding', 'utf8']);
    expect(JSON.parse(strayRun.stdout)).toMatchObject({ read: 2, inserted: 1, rejected: 1 });
    expect(readFileSync(join(dir, 'stray.rejects.csv'), 'utf8')).toMatch(
      /3,3,"full_name \(column ""name""\): .* contains bytes that are not text in this encoding/,
    );
  }, 180_000); // several CLI runs: each starts a Node process, slow on a busy machine

  it('writes every rejected row with its row number, reasons and original values; imported + rejected = read', async () => {
    const rows = [
      HEADER,
      [
        'M001',
        '张伟',
        '男',
        '13912340001',
        'zw@example.com',
        '人民路1号',
        '苏州市',
        '江苏省',
        '215000',
        '1985-01-01',
        '100',
        '',
        '',
        'yes',
      ],
      [
        'M002',
        '李娜',
        '女',
        '+86 139 1234 5679',
        'li.na@example',
        '中山路1号',
        '南京市',
        '江苏省',
        '21000',
        '1990-02-30',
        'abc',
        'Red',
        '',
        'maybe',
      ],
      ['M003', '赵六', '男', '139123456781', '', '', '', '', '', '', '', '', '', ''],
      ['', '无编号', '男', '', '', '', '', '', '', '', '', '', '', ''],
      ['M001', '张伟', '男', '13912340001', 'again@example.com', '', '', '', '', '', '', '', '', ''],
    ];
    const file = writeCsv(dir, 'mixed.csv', rows);
    // A broken quote and a row with too many values, appended by hand.
    writeFileSync(
      file,
      readFileSync(file, 'utf8') + 'M005,"unterminated,男,,,,,,,,,,,\nM006,钱七,男,,,,,,,,,,,yes,extra\n',
    );
    const run = await cli([file, '--batch-size', '2']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ read: 7, inserted: 1, updated: 0, rejected: 6 });
    expect(summary.inserted + summary.updated + summary.rejected).toBe(summary.read);
    const rejects = parseRejects(readFileSync(summary.rejectsPath, 'utf8'));
    const byRow = Object.fromEntries(rejects.map((r) => [r.row, r]));
    expect(Object.keys(byRow).sort()).toEqual(['3', '4', '5', '6', '7', '8']);
    expect(byRow['3']!.reason).toContain('email (column "邮箱"): "li.na@example" is not a valid email address');
    expect(byRow['3']!.reason).toContain('postal_code (column "邮编"): "21000" is not a valid postal code for CN');
    expect(byRow['3']!.reason).toContain('birthday (column "生日"): "1990-02-30" is not a real calendar date');
    expect(byRow['3']!.reason).toContain('attributes.annual_spend (column "年消费额"): "abc" is not a number');
    expect(byRow['3']!.reason).toContain('consent_email: "maybe" is not a consent value');
    expect(byRow['3']!['手机']).toBe('+86 139 1234 5679');
    expect(byRow['4']!.reason).toMatch(/phone \(column "手机"\): "139123456781" is not a valid phone number/);
    expect(byRow['5']!.reason).toBe('external_id: is required but empty');
    expect(byRow['6']!.reason).toMatch(/external_id: "M001" appears on an earlier row of this file/);
    expect(byRow['7']!.reason).toMatch(/never closed/);
    expect(byRow['7']!.raw_record).toBe('M005,"unterminated,男,,,,,,,,,,,');
    expect(byRow['8']!.reason).toBe('has 15 values but the header has 14 columns');
    expect(byRow['8']!.raw_record).toBe('M006,钱七,男,,,,,,,,,,,yes,extra');
    const [{ n }] = (await db.sql`select count(*)::int as n from customers where external_id like 'M%'`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(1);
  });

  it('stores hostile values verbatim, or rejects them with a reason, and never breaks the import', async () => {
    const long = '长'.repeat(250);
    const rows = [
      ['external_id', 'full_name', 'email', 'address_line1', 'notes'],
      [
        "H1'); drop table customers; --",
        "Robert'); DROP TABLE customers;--",
        'bobby@example.com',
        '<script>alert(1)</script>',
        '=cmd|" /C calc"!A0',
      ],
      ['H2', '😀 Emoji 王', '', 'Line one\nLine two', '"quoted", with commas'],
      ['H3', long, '', '', ''],
      ['H4', 'nul\u0000byte', '', '', ''],
    ];
    const file = writeCsv(dir, 'hostile.csv', rows);
    const run = await cli([file]);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ read: 4, inserted: 2, rejected: 2 });
    const stored =
      await db.sql`select external_id, full_name, address_line1, attributes from customers where external_id like 'H%' order by external_id`;
    expect(stored.map((r) => [r.external_id, r.full_name, r.address_line1, r.attributes.notes])).toEqual([
      [
        "H1'); drop table customers; --",
        "Robert'); DROP TABLE customers;--",
        '<script>alert(1)</script>',
        '=cmd|" /C calc"!A0',
      ],
      ['H2', '😀 Emoji 王', 'Line one\nLine two', '"quoted", with commas'],
    ]);
    const rejects = parseRejects(readFileSync(summary.rejectsPath, 'utf8'));
    expect(rejects.map((r) => [r.row, r.reason])).toEqual([
      ['4', `full_name: "${'长'.repeat(57)}…" is 250 characters long; at most 200 are allowed`],
      // The reason shows the NUL escaped, so the rejects file itself stays clean text.
      ['5', 'full_name: "nul\\u0000byte" contains a NUL character'],
    ]);
    expect(rejects[0]!.full_name).toBe(long);
  });

  it('maps unusual headers with a mapping file', async () => {
    const mapping = join(dir, 'mapping.yaml');
    writeFileSync(
      mapping,
      'columns:\n  Cust No: external_id\n  Who: full_name\n  AUM: attributes.financial_assets\n  Junk: ignore\ndefaults:\n  country: GB\n  region: GB\n',
    );
    const file = writeCsv(dir, 'mapped.csv', [
      ['Cust No', 'Who', 'AUM', 'Junk', 'Mobile', 'Postcode'],
      ['X1', 'Olivia Brown', '250,000', 'zzz', '07911 123456', 'sw1a 2aa'],
    ]);
    const run = await cli([file, '--mapping', mapping]);
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 1, inserted: 1, rejected: 0, unmatchedColumns: [] });
    const [c] =
      await db.sql`select phone, postal_code, country, timezone, attributes from customers where external_id = 'X1'`;
    expect(c).toEqual({
      phone: '+447911123456',
      postal_code: 'SW1A 2AA',
      country: 'GB',
      timezone: 'Europe/London',
      attributes: { financial_assets: 250000 },
    });
  });

  it('fails with exit code 3 and imports nothing when the file cannot be used', async () => {
    const before = await db.sql`select count(*)::int as n from customers`;
    const noId = writeCsv(dir, 'noid.csv', [
      ['name', 'phone'],
      ['x', '1'],
    ]);
    const missingColumn = await cli([noId]);
    expect(missingColumn.code).toBe(3);
    expect(missingColumn.stderr).toMatch(/the file has no column for external_id\. Its columns are: name, phone\./);
    const missingFile = await cli([join(dir, 'nope.csv')]);
    expect(missingFile.code).toBe(3);
    expect(missingFile.stderr).toMatch(/cannot read .*nope\.csv: no such file/);
    const badMapping = join(dir, 'bad-mapping.yaml');
    writeFileSync(badMapping, 'columns:\n  name: full_name\n  phone: telephone_number\n');
    const mapped = await cli([noId, '--mapping', badMapping]);
    expect(mapped.code).toBe(3);
    expect(mapped.stderr).toMatch(/columns\."phone": "telephone_number" is not a customer field/);
    const region = await cli([noId.replace('noid', 'good'), '--region', 'china-mainland']);
    expect(region.code).toBe(2);
    expect(region.stderr).toMatch(/--region "china-mainland" is not a country: use a two-letter ISO code/);
    const dupHeader = writeCsv(dir, 'dup.csv', [
      ['external_id', 'name', 'Name'],
      ['a', 'b', 'c'],
    ]);
    expect((await cli([dupHeader])).stderr).toMatch(/the header "Name" appears twice \(columns 2 and 3\)/);
    const after = await db.sql`select count(*)::int as n from customers`;
    expect(after[0]!.n).toBe(before[0]!.n);
  }, 180_000); // several CLI runs: each starts a Node process, slow on a busy machine
});
