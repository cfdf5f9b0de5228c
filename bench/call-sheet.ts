// The printable call sheet of one manager with 2,000 call tasks (`mailroom calls list --manager M
// --format pdf`): the work list read and its scripts rendered (callList), then the PDF written
// (writeCallSheet): seconds and peak RSS. In the same run, the bare tool: a plain PDFKit loop
// writing the same text (every line the sheet prints, same fonts and sizes) with no layout rules.
// Each runs in a process of its own, so that each peak RSS is its own.
//
//   npm run bench:call-sheet -- [--tasks 2000] [--rounds 3]
//
// Uses DATABASE_URL's server or the running `mailroom dev` stack, in a database of its own
// (mailroom_bench_sheet, made again on every run).
import { execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import PDFDocument from 'pdfkit';
import { context } from '../client/connect.ts';
import { connectDatabase } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { readStackState } from '../dev/stack-state.ts';
import { assignCallTasks } from '../pipeline/calls/call-tasks.ts';
import { callList, type CallListRow } from '../pipeline/calls/call-list.ts';
import { writeCallSheet } from '../pipeline/calls/call-sheet-pdf.ts';
import { loadCallScript } from '../pipeline/calls/call-script.ts';
import { storedCampaign } from '../pipeline/calls/stored-campaign.ts';
import { printFonts } from '../pipeline/render/print/fonts.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
}
const tasks = Number(arg('tasks', '2000'));
const rounds = Number(arg('rounds', '3'));
const MANAGER = '周敏';
const SLUG = 'bench-sheet';
const SECRET = 'bench-sheet-secret';
const SPEC = `name: ${SLUG}
description: 财富管理月（基准）
owner: 滨海邮储银行 招商路支行
offers: { gift-appliance: 电风扇或电饭煲（二选一）, gift-oil: 5 升装花生油一桶 }
waves:
  - { name: calls, channel: call, template: wealth-call-script, assign_by: account_manager, unassigned: 网点主任, attempts: 3 }
`;
const ROWS = join(tmpdir(), 'mailroom-bench-sheet-rows.json');

const ctx = context();
const serverUrl = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
if (!serverUrl) {
  console.error('Start the stack first (`npx mailroom dev --detach`) or set DATABASE_URL.');
  process.exit(4);
}
const dbUrl = serverUrl.replace(/\/[^/?]+(\?|$)/, `/mailroom_bench_sheet$1`);
const rssMb = () => process.resourceUsage().maxRSS / 1024;

/** The sheet as Mailroom writes it: the list from the database, then the PDF. */
async function mailroomChild(): Promise<void> {
  const sql = connectDatabase(dbUrl, { max: 2 });
  const t0 = performance.now();
  const campaign = await storedCampaign(sql, SLUG);
  const rows = await callList(sql, campaign, {
    manager: MANAGER,
    secret: SECRET,
    trackingUrl: 'https://track.example.com',
    asOf: new Date(),
  });
  const listS = (performance.now() - t0) / 1000;
  writeFileSync(ROWS, JSON.stringify(rows));
  const file = join(tmpdir(), 'mailroom-bench-sheet.pdf');
  const t1 = performance.now();
  const pages = await writeCallSheet(rows, createWriteStream(file), {
    campaign: SLUG,
    title: campaign.title,
    printedFor: new Date(),
    outcomes: loadCallScript('wealth-call-script', '/').outcomes,
  });
  const pdfS = (performance.now() - t1) / 1000;
  await sql.end();
  console.log(JSON.stringify({ rows: rows.length, listS, pdfS, pages, bytes: statSync(file).size, rssMb: rssMb() }));
}

/** The bare tool: the same lines of text, one after another, through PDFKit with the same fonts. */
async function plainChild(): Promise<void> {
  const rows = JSON.parse(readFileSync(ROWS, 'utf8')) as CallListRow[];
  const file = join(tmpdir(), 'mailroom-bench-sheet-plain.pdf');
  const t0 = performance.now();
  const doc = new PDFDocument({ size: 'A4', margin: 40, compress: true });
  const fonts = printFonts();
  doc.registerFont('regular', fonts.regular as never);
  doc.registerFont('bold', fonts.bold as never);
  const out = createWriteStream(file);
  doc.pipe(out);
  let pages = 1;
  doc.on('pageAdded', () => pages++);
  for (const [i, r] of rows.entries()) {
    doc
      .font('bold')
      .fontSize(11)
      .text(`${i + 1}. ${r.name}（${r.salutation}）  ${r.phone ?? ''}`);
    doc.font('regular').fontSize(9).text(`排名 ${r.rank} · ${r.band} · 礼品 ${r.offer} · 状态 ${r.status}`);
    doc.fontSize(9.5).text(r.script);
    for (const c of r.last_contacts) doc.fontSize(8).text(`${c.at.slice(0, 10)} ${c.channel} ${c.who}: ${c.outcome}`);
    doc.fontSize(9).text('□ 已预约到访   □ 婉拒   □ 约定回电   □ 无人接听   □ 号码有误');
    doc.text('日期/时间 ______________   备注 ________________________________________');
  }
  doc.end();
  await once(out, 'finish');
  const pdfS = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ rows: rows.length, pdfS, pages, bytes: statSync(file).size, rssMb: rssMb() }));
}

async function prepare(): Promise<void> {
  const admin = connectDatabase(serverUrl!.replace(/\/[^/?]+(\?|$)/, `/postgres$1`), { max: 1 });
  await admin`drop database if exists mailroom_bench_sheet with (force)`;
  await admin`create database mailroom_bench_sheet`;
  await admin.end();
  const sql = connectDatabase(dbUrl, { max: 2 });
  await migrate(sql);
  await sql`
    insert into customers (external_id, full_name, family_name, gender, phone, attributes)
    select 'S' || i, (array['王','李','张','刘','陈'])[1 + i % 5] || (array['建华','秀英','伟','芳','静','磊'])[1 + i % 6],
           (array['王','李','张','刘','陈'])[1 + i % 5], case when i % 2 = 0 then 'male' else 'female' end,
           '+86139' || lpad(i::text, 8, '0'), jsonb_build_object('account_manager', ${MANAGER}::text)
    from generate_series(1, ${tasks}) i`;
  const [campaign] = await sql<{ id: number }[]>`
    insert into campaigns (slug, name, spec, workflow_id, status, snapshot_at, audience_channel)
    values (${SLUG}, '财富管理月', ${sql.json({ file: `/bench/${SLUG}.yaml`, text: SPEC })}, ${`campaign-${SLUG}`}, 'running', now(), 'mail')
    returning id`;
  await sql`
    insert into campaign_members (campaign_id, customer_id, rank, band, holdout)
    select ${campaign!.id}, id, n, case when n <= 60 then 'gift-appliance' else 'gift-oil' end, false
    from (select id, row_number() over (order by id)::int as n from customers) x`;
  await assignCallTasks(sql, {
    campaignId: campaign!.id,
    wave: 'calls',
    fromCustomerId: 0,
    toCustomerId: Number.MAX_SAFE_INTEGER,
    unassigned: '网点主任',
    dueAt: new Date(Date.now() + 6 * 86_400_000),
  });
  // Two earlier contacts each (the letter and an unanswered call), as the sheet shows them.
  await sql`
    insert into contact_log (customer_id, campaign_id, occurred_at, channel, actor, purpose, outcome, next_step, natural_key)
    select id, ${campaign!.id}::bigint, now() - interval '3 days', 'mail', 'system', 'letter', 'posted', null, 'bm' || id from customers
    union all
    select id, ${campaign!.id}::bigint, now() - interval '1 day', 'call', ${MANAGER}, 'call wave calls', 'no_answer', 'call again', 'bc' || id from customers`;
  await sql`vacuum analyze`;
  await sql.end();
}

const child = arg('child', '');
if (child === 'mailroom') await mailroomChild();
else if (child === 'plain') await plainChild();
else {
  await prepare();
  const load = loadavg()[0]!.toFixed(2);
  const run = (kind: string) =>
    JSON.parse(
      execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', kind], {
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: serverUrl },
      })
        .trim()
        .split('\n')
        .at(-1)!,
    ) as { rows: number; listS?: number; pdfS: number; pages: number; bytes: number; rssMb: number };
  // Alternating rounds, medians: the machine is shared, one round alone says little.
  const ms: ReturnType<typeof run>[] = [];
  const ps: ReturnType<typeof run>[] = [];
  for (let i = 0; i < rounds; i++) {
    ms.push(run('mailroom'));
    ps.push(run('plain'));
  }
  const median = <T>(xs: T[], key: (x: T) => number): T =>
    [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;
  const m = median(ms, (x) => x.listS! + x.pdfS);
  const p = median(ps, (x) => x.pdfS);
  const times = (xs: ReturnType<typeof run>[]) => xs.map((x) => (x.pdfS + (x.listS ?? 0)).toFixed(2)).join(', ');
  console.log(
    `call sheet of one manager with ${m.rows.toLocaleString()} tasks; median of ${rounds} rounds (mailroom ${times(ms)} s; plain ${times(ps)} s); load average ${load} at the start`,
  );
  console.log(
    `plain PDFKit loop, same text        PDF ${p.pdfS.toFixed(2)} s  ${p.pages} pages  ${(p.bytes / 1e6).toFixed(1)} MB  peak RSS ${p.rssMb.toFixed(0)} MB`,
  );
  console.log(
    `mailroom calls list --format pdf    list ${m.listS!.toFixed(2)} s + PDF ${m.pdfS.toFixed(2)} s = ${(m.listS! + m.pdfS).toFixed(2)} s  ${m.pages} pages  ${(m.bytes / 1e6).toFixed(1)} MB  peak RSS ${m.rssMb.toFixed(0)} MB`,
  );
  console.log(
    `ratio ${((m.listS! + m.pdfS) / p.pdfS).toFixed(2)}× the plain loop's time (PDF alone ${(m.pdfS / p.pdfS).toFixed(2)}×), ${(m.rssMb / p.rssMb).toFixed(2)}× its peak RSS`,
  );
}
