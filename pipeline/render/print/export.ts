// A print job for the print shop: PDFs of at most N pieces in postal-code order, manifest.csv
// (one row per piece: where it is and to whom it goes) and job.json (counts, page format and a
// SHA-256 per file). The campaign workflow and `mailroom print` both run this.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Sql } from '../../../db/connection.ts';
import { findWave, waveTemplateName, type LoadedCampaign } from '../../campaign/campaign-file.ts';
import { campaignInfo, memberContext, type MemberRow, type RenderContext } from '../context.ts';
import { memberBatches, memberCount } from '../members.ts';
import { loadTemplate } from '../templates.ts';
import { waveTemplateDirByName } from '../../campaign/wave-templates.ts';
import { addressLines } from './address.ts';
import { manifestHeader, manifestLines } from './manifest.ts';
import { geometryFor } from './geometry.ts';
import { isDuplex } from './layout.ts';
import { RenderPool } from './render-pool.ts';
import { ExitCode, UserError } from '../../../config/errors.ts';
import type { Fragment } from '../../audience/compile.ts';

export interface PrintOptions {
  out: string;
  wave?: string | undefined;
  perFile: number;
  limit?: number | undefined;
  asOf: Date;
  secret: string;
  trackingUrl: string;
  onProgress?: (pieces: number) => void;
  /** Told how many pieces the job will have, before the first file is rendered (costs a count). */
  onStart?: (pieces: number) => void;
  /** Told of each file once it is written, with the pieces written so far, in the order files finish. */
  onFile?: (file: PrintFile, piecesDone: number) => void;
  pool?: RenderPool;
  /** Replace an earlier job in `out` (its PDFs, manifest and job.json) instead of refusing. */
  replace?: boolean;
  /** Only members meeting this condition (a wave's target): see members.ts. */
  where?: Fragment | undefined;
  /** Told the customer ids of each file's pieces as the file is laid out. */
  onPieces?: (customerIds: number[]) => void;
}

/**
 * A print shop takes "every PDF in the folder": an earlier job's files must not linger beside a
 * new one. An output folder holding a job is refused unless asked to replace it, and then the
 * old job's files go first. job.json is written last, so it exists only for a complete job.
 */
function prepareOutput(out: string, prefix: string, replace: boolean): void {
  mkdirSync(out, { recursive: true });
  const earlier = readdirSync(out).filter(
    (f) => f === 'job.json' || f === 'manifest.csv' || (f.startsWith(prefix) && f.endsWith('.pdf')),
  );
  if (!earlier.length) return;
  if (!replace) {
    throw new UserError(
      `${out} already holds a print job (${earlier.slice(0, 3).join(', ')}${earlier.length > 3 ? ', …' : ''}); choose another --out, or pass --force to replace it`,
      ExitCode.badInput,
    );
  }
  for (const f of earlier) rmSync(join(out, f), { force: true });
}

export interface PrintJob {
  campaign: string;
  wave: string;
  template: string;
  pieces: number;
  pages: number;
  page_size: string;
  orientation: string;
  trim_mm: [number, number];
  bleed_mm: number;
  crop_marks: boolean;
  order: string;
  /** The fewest and most pages a piece has (a blank back included, when printed on both sides). */
  pages_per_piece: { min: number; max: number };
  /** Each sheet printed on both sides; a piece of an odd number of pages then ends with a blank back. */
  duplex: boolean;
  sides_per_sheet: 1 | 2;
  /** Sheets of paper for the whole job. */
  sheets: number;
  files: PrintFile[];
}

export interface PrintFile {
  file: string;
  pieces: number;
  pages: number;
  sha256: string;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function exportPrint(sql: Sql, campaign: LoadedCampaign, opts: PrintOptions): Promise<PrintJob> {
  const wave = findWave(campaign, opts.wave, 'mail');
  const info = campaignInfo(campaign);
  // Load every template of the wave here first: a broken one fails before anything is written.
  const templateDirs = new Set(typeof wave.template === 'string' ? [wave.template] : Object.values(wave.template));
  const layouts = [...templateDirs].map((name) => {
    const t = loadTemplate(waveTemplateDirByName(campaign, wave, name));
    if (t.channel !== 'mail')
      throw new UserError(
        `template ${name} of wave ${wave.name} is a ${t.channel} template; a mail wave needs a mail template`,
        ExitCode.badInput,
      );
    return t;
  });
  const g = geometryFor(layouts[0]!.layout);
  const duplex = isDuplex(layouts[0]!.layout, layouts[0]!.pages);
  let minPages = Infinity;
  let maxPages = 0;
  const members = memberBatches(sql, campaign, { asOf: opts.asOf, limit: opts.limit, where: opts.where });
  const first = await members.next();
  const contextOf = (row: MemberRow) => memberContext(row, info, opts);
  // Preflight: every text block of every template renders for a real member before any file is written.
  try {
    if (!first.done && first.value.length) {
      const sample = contextOf(first.value[0]!);
      for (const t of layouts)
        for (const page of t.pages) for (const block of page.blocks) block.compiled?.render(sample);
    }
    prepareOutput(opts.out, `${campaign.slug}-${wave.name}-`, opts.replace === true);
    if (opts.onStart)
      opts.onStart(
        first.done ? 0 : await memberCount(sql, campaign, { asOf: opts.asOf, limit: opts.limit, where: opts.where }),
      );
  } catch (error) {
    await members.return(undefined);
    throw error;
  }
  const pool = opts.pool ?? new RenderPool();
  const manifestPath = join(opts.out, 'manifest.csv');
  const manifest = createWriteStream(manifestPath);
  manifest.write(manifestHeader());
  const job: PrintJob = {
    campaign: campaign.slug,
    wave: wave.name,
    template: [...templateDirs].join(', '),
    pieces: 0,
    pages: 0,
    page_size: layouts[0]!.layout.size,
    orientation: layouts[0]!.layout.orientation,
    trim_mm: [g.width, g.height],
    bleed_mm: g.bleed,
    crop_marks: g.marks,
    pages_per_piece: { min: 0, max: 0 },
    duplex,
    sides_per_sheet: duplex ? 2 : 1,
    sheets: 0,
    order: 'postal_code, customer_id',
    files: [],
  };
  const pending: Promise<void>[] = [];
  // The first failure of any file in flight; checked after every batch so nothing is left unhandled.
  let failure: unknown;
  const track = (p: Promise<void>) => {
    const handled = p.catch((error) => {
      failure ??= error;
    });
    pending.push(handled);
  };
  let fileNo = 0;
  let sequence = 0;
  const flushFile = (pieces: RenderContext[]) => {
    if (!pieces.length) return;
    fileNo++;
    const file = `${campaign.slug}-${wave.name}-${String(fileNo).padStart(3, '0')}.pdf`;
    const firstSequence = sequence + 1;
    sequence += pieces.length;
    const entry = { file, pieces: pieces.length, pages: 0, sha256: '' };
    opts.onPieces?.(pieces.map((p) => p.customer.id));
    job.files.push(entry);
    // Pieces of one file share a template; mixed-variant waves split by template below.
    const templateDir = waveTemplateDirByName(campaign, wave, waveTemplateName(wave, pieces[0]!.variant));
    track(
      pool
        .render({ templateDir, path: join(opts.out, file), title: `${campaign.slug} ${wave.name} ${fileNo}`, pieces })
        .then(async (pages) => {
          entry.pages = pages.reduce((s, p) => s + p.pageCount, 0);
          for (const p of pages) {
            minPages = Math.min(minPages, p.pageCount);
            maxPages = Math.max(maxPages, p.pageCount);
            job.sheets += Math.ceil(p.pageCount / job.sides_per_sheet);
          }
          entry.sha256 = await sha256(join(opts.out, file));
          const rows = pieces.map((ctx, i) => {
            const lines = addressLines(ctx.customer);
            const seq = firstSequence + i;
            return [
              seq,
              `${campaign.slug}-${wave.name}-${String(seq).padStart(7, '0')}`,
              ctx.customer.id,
              ctx.customer.external_id,
              ctx.customer.full_name,
              ...[0, 1, 2, 3, 4].map((k) => lines[k] ?? ''),
              ctx.customer.postal_code ?? '',
              ctx.customer.country,
              file,
              pages[i]!.firstPage,
              pages[i]!.pageCount,
              ctx.response_code,
              ctx.purl,
              ctx.band ?? '',
              ctx.variant ?? '',
            ];
          });
          manifestRows.set(job.files.indexOf(entry), manifestLines(rows));
          // Write every row whose file and all files before it are done: memory stays flat.
          while (manifestRows.has(written)) {
            manifest.write(manifestRows.get(written)!);
            manifestRows.delete(written++);
          }
          job.pieces += pieces.length;
          opts.onProgress?.(job.pieces);
          opts.onFile?.(entry, job.pieces);
        }),
    );
  };
  // Manifest rows are written in file order even when files finish out of order.
  const manifestRows = new Map<number, string>();
  let written = 0;
  const byTemplate = new Map<string, RenderContext[]>();
  try {
    const batches = async function* () {
      if (!first.done) yield first.value;
      yield* members;
    };
    for await (const batch of batches()) {
      for (const row of batch) {
        const ctx = contextOf(row);
        const key = waveTemplateName(wave, row.variant);
        const list = byTemplate.get(key) ?? [];
        list.push(ctx);
        byTemplate.set(key, list);
        if (list.length >= opts.perFile) {
          flushFile(list);
          byTemplate.set(key, []);
        }
      }
      // Keep at most a few files in flight so memory stays flat on large waves.
      while (pending.length >= pool.size * 2) await pending.shift();
      if (failure) throw failure;
    }
    for (const list of byTemplate.values()) flushFile(list);
    await Promise.all(pending);
    if (failure) throw failure;
  } catch (error) {
    // Let files in flight settle, then close the manifest and remove it: without job.json the
    // folder holds no complete job, and a partial manifest would only mislead.
    await Promise.all(pending);
    manifest.end();
    await once(manifest, 'close').catch(() => {});
    rmSync(manifestPath, { force: true });
    throw error;
  } finally {
    await members.return(undefined);
    if (!opts.pool) await pool.close();
  }
  manifest.end();
  await once(manifest, 'finish');
  job.pages = job.files.reduce((s, f) => s + f.pages, 0);
  job.pages_per_piece = job.pieces ? { min: minPages, max: maxPages } : { min: 0, max: 0 };
  writeFileSync(join(opts.out, 'job.json'), `${JSON.stringify(job, null, 2)}\n`);
  return job;
}
