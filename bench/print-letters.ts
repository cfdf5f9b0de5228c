// Renders letters through `mailroom print`'s code path (worker threads, files of 1,000 pieces,
// manifest, job.json) and, in the same run, a plain single-process PDFKit loop drawing the same
// letters (same text, fonts, QR code and barcode) into files of the same size. Prints pages/s and
// peak RSS for both; the ratio is the figure.
//
//   npm run bench:print -- [--sizes 10000,100000]
//
// Needs the 1,000,000-customer database of `npm run bench:snapshot` (or any database with enough
// mainland customers via DATABASE_URL).
import { mkdirSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import PDFDocument from 'pdfkit';
import { context } from '../client/connect.ts';
import { connectDatabase } from '../db/connection.ts';
import { readStackState } from '../dev/stack-state.ts';
import { loadCampaign } from '../pipeline/campaign/campaign-file.ts';
import { exportPrint } from '../pipeline/render/print/export.ts';
import { memberBatches } from '../pipeline/render/members.ts';
import { contextFor } from '../pipeline/render/context.ts';
import { snapshotAudience } from '../pipeline/audience/snapshot.ts';
import type { RenderContext } from '../pipeline/render/context.ts';
import { loadTemplate, resolveTemplateDir } from '../pipeline/render/templates.ts';
import { addressLines } from '../pipeline/render/print/address.ts';
import { printFonts } from '../pipeline/render/print/fonts.ts';
import { drawCode128, drawQr } from '../pipeline/render/print/symbols.ts';

const sizes = (process.argv[process.argv.indexOf('--sizes') + 1] ?? '').match(/^\d[\d,]*$/)
  ? process.argv[process.argv.indexOf('--sizes') + 1]!.split(',').map(Number)
  : [10_000, 100_000];
const ctx = context();
const serverUrl = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
if (!serverUrl) {
  console.error('Start the stack first (`npx mailroom dev --detach`) or set DATABASE_URL.');
  process.exit(4);
}
const url = ctx.env.DATABASE_URL ?? serverUrl.replace(/\/[^/?]+(\?|$)/, '/mailroom_bench_audience$1');
const sql = connectDatabase(url, { max: 4 });
const work = join(ctx.paths.home, 'bench', 'print');
mkdirSync(work, { recursive: true });
const campaignPath = join(work, 'campaign.yaml');
writeFileSync(
  campaignPath,
  [
    'name: bench-letters',
    'title: 财富管理月 Wealth-management month',
    'owner: 招商路支行 财富管理中心',
    "audience: { rules: { field: country, op: '=', value: CN }, channel: mail }",
    'waves: [{ name: letter, channel: mail, template: wealth-letter }]',
  ].join('\n'),
);
const campaign = loadCampaign(campaignPath);
const asOf = new Date('2026-12-01T12:00:00Z');
// A campaign prints from its audience snapshot (as the workflow does); take it once, untimed.
{
  const [c] = await sql<{ id: number }[]>`
    insert into campaigns (slug, name, spec, workflow_id) values ('bench-letters', 'bench', '{}', 'campaign-bench-letters')
    on conflict (slug) do update set name = excluded.name returning id`;
  const t = Date.now();
  const snap = await snapshotAudience({ sql, registry: campaign.registry, asOf }, c!.id, campaign.audience);
  if (snap.created)
    console.log(
      `snapshot of ${snap.counts.contactable.toLocaleString()} members taken in ${((Date.now() - t) / 1000).toFixed(1)} s (not part of the figures)`,
    );
}
const opts = { asOf, secret: 'bench', trackingUrl: 'https://go.example.com' };

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;

async function mailroom(n: number) {
  rmSync(join(work, 'out'), { recursive: true, force: true });
  peak = process.memoryUsage().rss;
  const t = process.hrtime.bigint();
  const byTenth: string[] = [];
  const job = await exportPrint(sql, campaign, {
    out: join(work, 'out'),
    wave: 'letter',
    perFile: 1000,
    limit: n,
    ...opts,
    onProgress: (done) => {
      while (byTenth.length < 10 && done >= (n * (byTenth.length + 1)) / 10)
        byTenth.push(mb(process.memoryUsage().rss));
    },
  });
  return { seconds: Number(process.hrtime.bigint() - t) / 1e9, pages: job.pages, peak, byTenth };
}

/** The same letters drawn with plain PDFKit calls in this one thread, 1,000 to a file. */
async function plain(n: number) {
  rmSync(join(work, 'plain'), { recursive: true, force: true });
  mkdirSync(join(work, 'plain'));
  const template = loadTemplate(resolveTemplateDir('wealth-letter', campaign.dir));
  if (template.channel !== 'mail') throw new Error('not a mail template');
  const body = template.pages[0]!.blocks.find((b) => b.type === 'text' && b.flow)!;
  const fonts = printFonts();
  // The baseline gets its letters' data in memory beforehand: only drawing is timed.
  const contexts: RenderContext[] = [];
  for await (const batch of memberBatches(sql, campaign, { asOf, limit: n }))
    for (const row of batch) contexts.push(contextFor(row, campaign, opts));
  peak = process.memoryUsage().rss;
  const t = process.hrtime.bigint();
  let pages = 0;
  let doc: InstanceType<typeof PDFDocument> | undefined;
  let out: ReturnType<typeof createWriteStream> | undefined;
  const close = async () => {
    if (!doc) return;
    doc.end();
    await once(out!, 'finish');
  };
  {
    for (const c of contexts) {
      if (pages % 1000 === 0) {
        await close();
        doc = new PDFDocument({ autoFirstPage: false, size: 'A4' });
        doc.registerFont('regular', fonts.regular as never);
        out = createWriteStream(join(work, 'plain', `${pages / 1000}.pdf`));
        doc.pipe(out);
      }
      doc!.addPage({ size: 'A4', margin: 56 });
      doc!.font('regular').fontSize(10).text(addressLines(c.customer).join('\n'), 57, 128, { width: 241, height: 113 });
      drawQr(doc!, c.purl, 462, 128, 76);
      doc!.fontSize(10.5).text(body.compiled!.render(c), 62, 283, { width: 470, lineGap: 4 });
      drawCode128(doc!, c.response_code, 62, 743, 156, 34);
      pages++;
    }
  }
  await close();
  return { seconds: Number(process.hrtime.bigint() - t) / 1e9, pages, peak };
}

const child = process.argv.indexOf('--child');
if (child !== -1) {
  const mode = process.argv[child + 1];
  const n = Number(process.argv[child + 2]);
  const result = mode === 'mailroom' ? await mailroom(n) : await plain(n);
  clearInterval(sampler);
  await sql.end();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

// Each measurement runs in a fresh process: RSS never shrinks, so runs sharing a process would
// inherit each other's peaks.
function measure(mode: string, n: number): { seconds: number; pages: number; peak: number; byTenth?: string[] } {
  const run = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--child', mode, String(n)],
    { encoding: 'utf8', env: process.env, maxBuffer: 1 << 24 },
  );
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${mode} ${n} failed: ${run.stderr}`);
  return JSON.parse(line.slice(7));
}

console.log(
  `print bench — ${cpus().length} cores (${cpus()[0]?.model}), Node ${process.version}, A4 letters with Noto Sans SC, QR and Code 128`,
);
const modes = (process.argv[process.argv.indexOf('--modes') + 1] ?? '').split(',');
for (const n of sizes) {
  const m = measure('mailroom', n);
  if (m.byTenth) console.log(`  (mailroom print RSS at each tenth of ${n.toLocaleString()}: ${m.byTenth.join(', ')})`);
  if (modes.includes('mailroom-only')) {
    console.log(
      `  ${n.toLocaleString()} letters: mailroom print ${m.pages.toLocaleString()} pages in ${m.seconds.toFixed(1)} s = ${Math.round(m.pages / m.seconds).toLocaleString()} pages/s, peak RSS ${mb(m.peak)}`,
    );
    continue;
  }
  const p = measure('plain', n);
  const rate = (r: { pages: number; seconds: number }) => Math.round(r.pages / r.seconds);
  console.log(
    `  ${n.toLocaleString()} letters: mailroom print ${m.pages.toLocaleString()} pages in ${m.seconds.toFixed(1)} s = ${rate(m).toLocaleString()} pages/s, peak RSS ${mb(m.peak)} | ` +
      `plain PDFKit loop ${p.pages.toLocaleString()} pages in ${p.seconds.toFixed(1)} s = ${rate(p).toLocaleString()} pages/s, peak RSS ${mb(p.peak)} | ratio ${(rate(m) / rate(p)).toFixed(2)}×`,
  );
}
clearInterval(sampler);
await sql.end();
