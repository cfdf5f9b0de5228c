// `mailroom import responses FILE`: offline responses (coupon redemptions, branch visits, call
// outcomes, orders, appointments) from a till, an ERP or a spreadsheet.
import type { Command } from 'commander';
import { existingSecret } from '../../config/secret.ts';
import { context, withDatabase } from '../connect.ts';
import { formatTable, printJson, say } from '../output.ts';
import { importProgress } from '../progress.ts';
import { positiveInt } from '../parse-options.ts';
import type { ResponseImportSummary } from '../../pipeline/responses/import/run.ts';
import { runResponseImportInThread } from '../../pipeline/customers/import/import-thread.ts';

interface Flags {
  source?: string;
  mapping?: string;
  encoding?: string;
  region?: string;
  timezone?: string;
  currency?: string;
  rejects?: string;
  batchSize: number;
  json?: boolean;
}

async function importResponses(file: string, flags: Flags): Promise<void> {
  const ctx = context({ quiet: flags.json === true });
  const summary = await withDatabase(ctx, async (_sql, url) => {
    const progress = importProgress('Importing responses');
    const result = await runResponseImportInThread(url, {
      file,
      source: flags.source,
      mappingPath: flags.mapping,
      encoding: flags.encoding,
      region: flags.region,
      timezone: flags.timezone,
      currency: flags.currency,
      rejectsPath: flags.rejects,
      batchSize: flags.batchSize,
      secret: existingSecret(ctx.env, ctx.paths),
      onProgress: progress.onProgress,
    });
    progress.stop();
    return result;
  });
  report(file, summary, flags.json === true);
}

function report(file: string, s: ResponseImportSummary, json: boolean): void {
  if (json) {
    printJson({
      read: s.read,
      matched: s.matched,
      duplicates: s.duplicates,
      unmatched: s.unmatched,
      rejected: s.rejected,
      matchedBy: s.matchedBy,
      source: s.source,
      rejectsPath: s.rejectsPath,
      importId: s.importId,
      encoding: s.encoding,
      ignoredColumns: s.ignoredColumns,
      seconds: s.seconds,
    });
    return;
  }
  say(
    `Imported responses from ${file} (${s.encoding}, ${s.source ? `source ${s.source}` : 'sources from the file'}) in ${s.seconds.toFixed(1)} s`,
  );
  say(
    formatTable([
      { read: s.read, matched: s.matched, duplicates: s.duplicates, unmatched: s.unmatched, rejected: s.rejected },
    ]),
  );
  const by = Object.entries(s.matchedBy).filter(([, n]) => n > 0);
  if (by.length) say(`Matched by: ${by.map(([key, n]) => `${key} ${n}`).join(', ')}`);
  if (s.duplicates) say('Duplicates (a source_id already imported from the same source) were left as they were.');
  if (s.ignoredColumns.length) say(`Columns ignored: ${s.ignoredColumns.join(', ')}`);
  if (s.rejectsPath) say(`Unmatched and rejected rows, with their row numbers and reasons: ${s.rejectsPath}`);
}

/** Adds `responses <file>` to the `import` command. */
export function registerImportResponses(importCommand: Command): void {
  importCommand
    .command('responses <file>')
    .description(
      'import offline responses (coupon redemptions, branch visits, call outcomes, orders, appointments) from a CSV file, matched to customers by response code, customer id, phone or email',
    )
    .option(
      '--source <name>',
      'the system the file comes from (its source_id values are unique within it); required unless the file has a source column',
    )
    .option('--mapping <file>', 'YAML mapping of your column names to response fields (see README)')
    .option('--encoding <name>', 'file encoding (utf8, gbk, …); detected when omitted')
    .option('--region <code>', 'country of phone numbers written without a country code (default: CN)')
    .option('--timezone <tz>', 'time zone of times without an offset (default: Asia/Shanghai)')
    .option('--currency <code>', 'currency of values when the file has no currency column (default: CNY)')
    .option(
      '--rejects <path>',
      'where to write unmatched and rejected rows (default: FILE.rejects.csv beside the input)',
    )
    .option('--batch-size <n>', 'rows per COPY batch and set-based match', positiveInt, 10_000)
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nread = matched + duplicates + unmatched + rejected. Importing the same rows again changes nothing (duplicates).\nExit codes: 0 the file was read (unmatched and rejected rows are in the rejects file), 2 a bad option, 3 the file or mapping could not be used, 4 the database is unreachable.',
    )
    .action((file: string, flags: Flags) => importResponses(file, flags));
}
