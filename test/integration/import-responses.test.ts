import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESPONSE_FIELDS } from '../../pipeline/responses/import/columns.ts';
import { runResponseImport } from '../../pipeline/responses/import/run.ts';
import { responseCode } from '../../pipeline/render/codes.ts';
import { runCli } from '../helpers/cli.ts';
import { parseRejects, tempDir, writeCsv } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const SECRET = 'import-responses-test-secret';
const log = pino({ level: 'silent' });

const HEADER: string[] = RESPONSE_FIELDS.filter((f) => f !== 'currency' && f !== 'source');

describe('mailroom import responses', () => {
  let db: TestDatabase;
  let dir: string;
  const ids: Record<string, number> = {};
  let spring = 0;
  let codeC1 = '';
  let rows: string[][] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = tempDir();
    const customers = await db.sql<{ id: number; external_id: string }[]>`
      insert into customers (external_id, full_name, phone, email) values
        ('C1', '王晓明', '+8613912345678', 'wang@example.com'),
        ('C2', '李娜', '+8613800001111', 'li.na@example.com'),
        ('C3', '张伟', '+8613700002222', 'zhang@example.com'),
        ('C4', '陈静', '+8613600003333', null),
        ('C5', '陈刚', '+8613600003333', 'chen@example.com')
      returning id, external_id`;
    for (const c of customers) ids[c.external_id] = Number(c.id);
    const [a] = await db.sql<{ id: number }[]>`
      insert into campaigns (slug, name, spec, workflow_id) values ('spring-letters', '春季来信', '{}', 'campaign-spring-letters') returning id`;
    await db.sql`insert into campaigns (slug, name, spec, workflow_id) values ('autumn', 'Autumn', '{}', 'campaign-autumn')`;
    spring = Number(a!.id);
    // Members without stored codes: the import stores them (under the secret) before matching.
    await db.sql`
      insert into campaign_members (campaign_id, customer_id, rank)
      select ${spring}, id, row_number() over (order by id) from customers`;
    codeC1 = responseCode(SECRET, 'spring-letters', ids.C1!);
    // A code as a cashier types it: lower case, with O for 0 and l for 1 where the code has them.
    const typed = codeC1.toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l');
    const unknownCode = codeC1 === 'ZZZZZZZZZZ' ? 'YYYYYYYYYY' : 'ZZZZZZZZZZ';
    rows = [
      ['R1', 'coupon_redemption', '2026-11-20 10:15', typed, '', '', '', '88.00', '滨海支行', '周敏', ''],
      ['R2', 'branch_visit', '2026-11-21T09:00:00+08:00', '', 'C2', '', '', '', '', '', 'spring-letters'],
      ['R3', 'order', '2026-11-22 14:00', '', '', '137 0000 2222', '', '1,200.50', '', '', ''],
      ['R4', 'appointment', '2026/11/23', '', '', '', 'Zhang@Example.com', '', '', '', '春季来信'],
      ['R5', 'call_outcome', '2026-11-24 08:00', '', 'C999', '136 0000 3333', 'chen@example.com', '', '', '', ''],
      ['R6', 'coupon_redemption', '2026-11-20', unknownCode, '', '', '', '', '', '', ''],
      ['R7', 'order', '2026-11-20', '', 'C404', '', '', '10', '', '', ''],
      ['R8', 'order', '2026-13-01', '', 'C1', '', '', '', '', '', ''],
      ['R9', 'refund', '2026-11-20', '', 'C1', '', '', '', '', '', ''],
      ['R10', 'branch_visit', '2026-11-20', '', '', '12345', '', '', '', '', ''],
      ['R11', 'branch_visit', '2026-11-20', '', 'C1', '', '', '', '滨海\u0001支行', '', ''],
      ['R2', 'branch_visit', '2026-11-25', '', 'C3', '', '', '', '', '', ''],
      ['R13', 'branch_visit', '2026-11-20', '', 'C2', '', '', '', '', '', 'no-such-campaign'],
      ['R14', 'coupon_redemption', '2026-11-20', codeC1, '', '', '', '', '', '', 'autumn'],
      ['R15', 'branch_visit', '2026-11-20', '', '', '', '', '', '', '', ''],
      ['R16', 'branch_visit', '2026-11-20', '', '', '13600003333', '', '', '', '', ''],
    ];
  });
  afterAll(() => db.drop());

  const importFile = (file: string, extra: Partial<Parameters<typeof runResponseImport>[1]> = {}) =>
    runResponseImport(db.sql, { file, secret: SECRET, log, source: 'pos', ...extra });

  it('matches by code, customer id, phone and email in that order, and sends the rest to the rejects file with the reason', async () => {
    const file = writeCsv(dir, 'responses.csv', [HEADER, ...rows]);
    const s = await importFile(file);
    expect(s).toMatchObject({ read: 16, matched: 5, duplicates: 1, unmatched: 3, rejected: 7 });
    expect(s.matched + s.duplicates + s.unmatched + s.rejected).toBe(s.read);
    expect(s.matchedBy).toEqual({ code: 1, customer: 1, phone: 1, email: 2 });

    const written = await db.sql<
      {
        key: string;
        kind: string;
        customer_id: number;
        campaign_id: number | null;
        utc: string;
        value: string | null;
        details: Record<string, unknown>;
      }[]
    >`
      select dedupe_key as key, kind, customer_id, campaign_id, value, details,
        to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as utc
      from responses order by dedupe_key`;
    expect(
      written.map((r) => [
        r.key,
        r.kind,
        Number(r.customer_id),
        r.campaign_id && Number(r.campaign_id),
        r.utc,
        r.value,
        r.details.matched_by,
      ]),
    ).toEqual([
      ['import:pos:R1', 'coupon_redemption', ids.C1, spring, '2026-11-20 02:15', '88.00', 'code'],
      ['import:pos:R2', 'branch_visit', ids.C2, spring, '2026-11-21 01:00', null, 'customer'],
      ['import:pos:R3', 'order', ids.C3, null, '2026-11-22 06:00', '1200.50', 'phone'],
      ['import:pos:R4', 'appointment', ids.C3, spring, '2026-11-22 16:00', null, 'email'],
      ['import:pos:R5', 'call_outcome', ids.C5, null, '2026-11-24 00:00', null, 'email'],
    ]);
    expect(written[0]!.details).toMatchObject({
      source_id: 'R1',
      code: codeC1,
      branch: '滨海支行',
      staff: '周敏',
      currency: 'CNY',
      import_id: s.importId,
    });

    const rejects = parseRejects(readFileSync(s.rejectsPath!, 'utf8'));
    const reasons = Object.fromEntries(rejects.map((r) => [r.source_id, r.reason]));
    expect(rejects.map((r) => r.row)).toEqual(['7', '8', '9', '10', '11', '12', '14', '15', '16', '17']);
    expect(reasons.R6).toMatch(/matches no customer: code "[0-9A-Z]{10}" is no member's response code/);
    expect(reasons.R7).toBe('matches no customer: external_id "C404" is no customer');
    expect(reasons.R8).toMatch(/^occurred_at: "2026-13-01" /);
    expect(reasons.R9).toMatch(/^kind: "refund" is not a kind of response that can be imported/);
    expect(reasons.R10).toMatch(/^phone: "12345" is not a valid phone number/);
    expect(reasons.R11).toMatch(/^branch: ".*" contains the control character U\+0001/);
    expect(reasons.R13).toBe('campaign: "no-such-campaign" is no campaign\'s slug or name');
    expect(reasons.R14).toBe('campaign: "autumn" is not the campaign of the response code (spring-letters)');
    expect(reasons.R15).toMatch(/^no matching key/);
    expect(reasons.R16).toBe('matches no customer: phone "13600003333" belongs to several customers');
    expect(rejects.find((r) => r.source_id === 'R11')!.branch).toBe('滨海\u0001支行');

    const [imp] =
      await db.sql`select kind, read, matched, duplicates, unmatched, rejected, matched_by from imports where id = ${s.importId}`;
    expect(imp).toMatchObject({ kind: 'responses', read: 16, matched: 5, duplicates: 1, unmatched: 3, rejected: 7 });
    expect(imp!.matched_by).toEqual(s.matchedBy);
  });

  it('changes nothing when the same file comes again: its matched rows are duplicates', async () => {
    const file = writeCsv(dir, 'again.csv', [HEADER, ...rows]);
    const before = await db.sql`select id, details from responses order by id`;
    const s = await importFile(file, { batchSize: 4 });
    expect(s).toMatchObject({ read: 16, matched: 0, duplicates: 6, unmatched: 3, rejected: 7 });
    expect(await db.sql`select id, details from responses order by id`).toEqual(before);
  });

  it('imports its own rejects file once corrected, under the same source', async () => {
    const file = writeCsv(dir, 'fixme.csv', [HEADER, ...rows]);
    const first = await importFile(file, { rejectsPath: `${dir}/fixme.rejects.csv` });
    const text = readFileSync(first.rejectsPath!, 'utf8')
      .replace(',C404,', ',C1,')
      .replace(',2026-13-01,', ',2026-11-30,');
    writeFileSync(first.rejectsPath!, text);
    const s = await importFile(first.rejectsPath!, { rejectsPath: `${dir}/fixme.rejects-2.csv` });
    expect(s).toMatchObject({ read: 10, matched: 2, duplicates: 0, unmatched: 2, rejected: 6 });
    expect(s.ignoredColumns).toEqual(['row', 'line', 'reason', 'raw_record']);
    const fixed =
      await db.sql`select dedupe_key from responses where dedupe_key in ('import:pos:R7', 'import:pos:R8') order by 1`;
    expect(fixed.map((r) => r.dedupe_key)).toEqual(['import:pos:R7', 'import:pos:R8']);
  });

  it('reads a GBK file with Chinese headers and kinds, a naive time in the given time zone', async () => {
    const file = writeCsv(
      dir,
      'gbk.csv',
      [
        ['来源', '流水号', '类型', '发生时间', '手机号', '金额', '门店', '备注'],
        ['网点登记', 'G1', '到店', '2026-11-26 09:30', '13800001111', '', '滨海支行', '老客户'],
        ['收银', 'G2', '优惠券核销', '2026-11-26 10:00', '139-1234-5678', '￥50', '中山路店', ''],
        ['收银', 'G3', '退货', '2026-11-26 10:00', '13800001111', '', '', ''],
      ],
      'gbk',
    );
    const s = await importFile(file, { source: undefined, timezone: 'Europe/London' });
    expect(s).toMatchObject({ read: 3, matched: 2, duplicates: 0, unmatched: 0, rejected: 1, encoding: 'gbk' });
    expect(s.source).toBeNull();
    expect(s.ignoredColumns).toEqual(['备注']);
    const got = await db.sql`
      select dedupe_key, kind, customer_id, value, details ->> 'branch' as branch,
        to_char(occurred_at at time zone 'UTC', 'HH24:MI') as utc
      from responses where dedupe_key in ('import:网点登记:G1', 'import:收银:G2') order by details ->> 'source_id'`;
    expect(got.map((r) => [r.dedupe_key, r.kind, Number(r.customer_id), r.value, r.branch, r.utc])).toEqual([
      ['import:网点登记:G1', 'branch_visit', ids.C2, null, '滨海支行', '09:30'],
      ['import:收银:G2', 'coupon_redemption', ids.C1, '50.00', '中山路店', '10:00'],
    ]);
    const [reject] = parseRejects(readFileSync(s.rejectsPath!, 'utf8'));
    expect(reject).toMatchObject({ row: '4', 流水号: 'G3' });
    expect(reject!.reason).toMatch(/^kind \(column "类型"\): "退货" is not a kind/);
  });

  it('takes column names from a mapping file', async () => {
    const file = writeCsv(dir, 'mapped.csv', [
      ['Txn', 'What', 'When', 'Member'],
      ['M1', 'order', '2026-11-27 12:00+08:00', 'C3'],
    ]);
    const mapping = `${dir}/mapping.yaml`;
    writeFileSync(mapping, 'columns:\n  Txn: source_id\n  What: kind\n  When: occurred_at\n  Member: external_id\n');
    const s = await importFile(file, { mappingPath: mapping });
    expect(s).toMatchObject({ read: 1, matched: 1, matchedBy: { customer: 1 } });
  });

  it('`mailroom import responses` prints the summary as JSON and exits 0, 2 without a source, 3 without a matching-key column', async () => {
    const cli = (args: string[]) =>
      runCli(['import', 'responses', ...args, '--json'], { DATABASE_URL: db.url, MAILROOM_SECRET: SECRET });
    const file = writeCsv(dir, 'cli.csv', [
      ['source_id', 'kind', 'occurred_at', 'email'],
      ['E1', 'branch_visit', '2026-11-28 09:00', 'li.na@example.com'],
      ['E2', 'branch_visit', '2026-11-28 09:00', 'nobody@example.com'],
    ]);
    const noKey = writeCsv(dir, 'nokey.csv', [
      ['source_id', 'kind', 'occurred_at', 'name'],
      ['X', 'order', '2026-11-28', '王'],
    ]);
    const [ok, noSource, noKeyColumn] = await Promise.all([
      cli([file, '--source', 'crm']),
      cli([file]),
      cli([noKey, '--source', 'crm']),
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      read: 2,
      matched: 1,
      duplicates: 0,
      unmatched: 1,
      rejected: 0,
      source: 'crm',
      matchedBy: { email: 1 },
    });
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toMatch(/with --source NAME/);
    expect(noKeyColumn.code).toBe(3);
    expect(noKeyColumn.stderr).toMatch(/no column for a matching key/);
  });
});
