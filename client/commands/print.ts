// `mailroom print CAMPAIGN.yaml --wave NAME --out DIR`: print-ready files for the print shop.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { formatTable, printJson, say } from '../output.ts';
import { positiveInt } from '../parse-options.ts';
import { progressBar } from '../progress.ts';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { installationSecret } from '../../config/secret.ts';
import { exportPrint } from '../../pipeline/render/print/export.ts';
import { parseAsOf } from './segment.ts';

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
    .option('--json', 'print the job (job.json) as JSON')
    .addHelpText(
      'after',
      '\nPieces are ordered by postal code, then customer. The same inputs give byte-identical files.\nExit codes: 0 written, 3 a bad campaign file or template (file, line and field are named).',
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
        },
      ) => {
        const ctx = context({ quiet: flags.json === true });
        const campaign = loadCampaign(file);
        const asOf = parseAsOf(flags.asOf);
        const job = await withDatabase(ctx, async (sql) => {
          // Without --limit the number of pieces is known only at the end: count, no bar.
          const bar = flags.limit
            ? progressBar('Rendering', flags.limit, { unit: 'pieces' })
            : progressBar('Rendering', 1, { format: 'Rendering… {value} pieces written' });
          try {
            return await exportPrint(sql, campaign, {
              out: resolve(flags.out),
              wave: flags.wave,
              perFile: flags.perFile,
              limit: flags.limit,
              asOf,
              secret: installationSecret(ctx.env, ctx.paths),
              trackingUrl: ctx.env.MAILROOM_TRACKING_URL,
              onProgress: (n) => bar.update(n),
              replace: flags.force === true,
            });
          } finally {
            bar.stop();
          }
        });
        if (flags.json) return printJson(job);
        say(
          `Wrote ${job.pieces} pieces (${job.pages} pages, ${job.page_size} ${job.orientation}, ${job.bleed_mm} mm bleed) to ${resolve(flags.out)}`,
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
