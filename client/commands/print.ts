// `mailroom print CAMPAIGN.yaml --wave NAME --out DIR`: print-ready files for the print shop.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { formatTable, printJson, say } from '../output.ts';
import { positiveInt } from '../parse-options.ts';
import cliProgress from 'cli-progress';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { installationSecret } from '../../config/secret.ts';
import { exportPrint, type PrintFile } from '../../pipeline/render/print/export.ts';
import { checkPublicTrackingUrl } from '../../pipeline/send/public-links.ts';
import { parseAsOf } from './segment.ts';

/**
 * Rendering progress on stderr, advanced as each file is written: a bar with pieces per second on
 * a terminal; elsewhere (a log file, a pipe) one line per file.
 */
function printProgress(say: (line: string) => void): {
  start: (total: number) => void;
  file: (file: PrintFile, done: number) => void;
  stop: () => void;
} {
  let began = Date.now();
  let total = 0;
  let files = 0;
  let bar: cliProgress.SingleBar | undefined;
  const rate = (done: number) => (done / Math.max(0.001, (Date.now() - began) / 1000)).toFixed(1);
  return {
    start(n) {
      total = n;
      began = Date.now();
      if (n === 0) return;
      if (!process.stderr.isTTY) {
        say(`Rendering ${n} pieces…`);
        return;
      }
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format:
            'Rendering [{bar}] {percentage}% | {value}/{total} pieces | {rate} pieces/s | {files} files | {eta_formatted} left',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(n, 0, { rate: '0.0', files: 0 });
    },
    file(f, done) {
      files++;
      if (bar) bar.update(done, { rate: rate(done), files });
      else say(`${f.file}: ${f.pieces} pieces, ${f.pages} pages (${done}/${total} pieces, ${rate(done)} pieces/s)`);
    },
    stop() {
      bar?.stop();
    },
  };
}

export function registerPrint(program: Command): void {
  program
    .command('print <campaign>')
    .description("render a mail wave's print files for the current audience, sending nothing")
    .requiredOption('--out <dir>', 'where to write the PDFs, manifest.csv and job.json')
    .option('--wave <name>', 'the mail wave (needed when the campaign has several)')
    .option('--limit <n>', 'render only the first N pieces (postal-code order)', positiveInt)
    .option('--per-file <n>', 'pieces per PDF file', positiveInt, 1000)
    .option('--as-of <date>', 'the date printed on letters and used for relative rules')
    .option('--force', 'replace an earlier print job in --out')
    .option(
      '--allow-local-links',
      'print links to a tracking server on this machine or a private network (test runs only: customers cannot reach them)',
    )
    .option('--json', 'print the job (job.json) as JSON')
    .addHelpText(
      'after',
      '\nPieces are ordered by postal code, then customer. The same inputs give byte-identical files.\nLinks and QR codes point at MAILROOM_TRACKING_URL; one on a loopback or private address is refused unless --allow-local-links is given.\nExit codes: 0 written, 3 a bad campaign file or template (file, line and field are named) or a tracking URL customers cannot reach.',
    )
    .action(
      async (
        file: string,
        flags: {
          out: string;
          wave?: string;
          limit?: number;
          perFile: number;
          asOf?: string;
          json?: boolean;
          force?: boolean;
          allowLocalLinks?: boolean;
        },
      ) => {
        const ctx = context({ quiet: flags.json === true });
        const campaign = loadCampaign(file);
        checkPublicTrackingUrl(ctx.env.MAILROOM_TRACKING_URL, {
          allowLocal: flags.allowLocalLinks === true,
          action: 'print',
        });
        const asOf = parseAsOf(flags.asOf);
        const progress = printProgress(flags.json === true ? () => {} : ctx.say);
        const job = await withDatabase(ctx, async (sql) => {
          try {
            return await exportPrint(sql, campaign, {
              out: resolve(flags.out),
              wave: flags.wave,
              perFile: flags.perFile,
              limit: flags.limit,
              asOf,
              secret: installationSecret(ctx.env, ctx.paths),
              trackingUrl: ctx.env.MAILROOM_TRACKING_URL,
              onStart: progress.start,
              onFile: progress.file,
              replace: flags.force === true,
            });
          } finally {
            progress.stop();
          }
        });
        if (flags.json) return printJson(job);
        const perPiece =
          job.pages_per_piece.min === job.pages_per_piece.max
            ? `${job.pages_per_piece.max}`
            : `${job.pages_per_piece.min}–${job.pages_per_piece.max}`;
        say(
          `Wrote ${job.pieces} pieces (${job.pages} pages, ${perPiece} per piece, ${job.duplex ? 'both sides' : 'one side'} of ${job.sheets} sheets, ${job.page_size} ${job.orientation}, ${job.bleed_mm} mm bleed) to ${resolve(flags.out)}`,
        );
        say(
          formatTable(
            job.files.map((f) => ({ file: f.file, pieces: f.pieces, pages: f.pages, sha256: f.sha256.slice(0, 16) })),
          ),
        );
        say('With manifest.csv (one row per piece) and job.json for the print shop.');
      },
    );
}
