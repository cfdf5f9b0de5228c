// `mailroom import customers|orders FILE`
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { formatTable, printJson, say } from '../output.ts';
import { importProgress } from '../progress.ts';
import type { ImportSummary } from '../../pipeline/customers/import/run-import.ts';
import { runImportInThread } from '../../pipeline/customers/import/import-thread.ts';
import type { ImportKind } from '../../pipeline/customers/import/mapping.ts';
import { positiveInt } from '../parse-options.ts';
import { registerImportResponses } from './import-responses.ts';

interface ImportFlags {
  mapping?: string;
  encoding?: string;
  region?: string;
  timezone?: string;
  currency?: string;
  rejects?: string;
  batchSize: number;
  json?: boolean;
}

async function importCommand(kind: ImportKind, file: string, flags: ImportFlags): Promise<void> {
  const ctx = context({ quiet: flags.json === true });
  const summary = await withDatabase(ctx, async (_sql, url) => {
    const progress = importProgress(`Importing ${kind}`);
    const result = await runImportInThread(url, {
      kind,
      file,
      mappingPath: flags.mapping,
      encoding: flags.encoding,
      region: flags.region,
      timezone: flags.timezone,
      currency: flags.currency,
      rejectsPath: flags.rejects,
      batchSize: flags.batchSize,
      onProgress: progress.onProgress,
    });
    progress.stop();
    return result;
  });
  report(kind, file, summary, flags.json === true);
}

function report(kind: ImportKind, file: string, s: ImportSummary, json: boolean): void {
  if (json) {
    printJson({
      read: s.read,
      inserted: s.inserted,
      updated: s.updated,
      rejected: s.rejected,
      rejectsPath: s.rejectsPath,
      importId: s.importId,
      encoding: s.encoding,
      unmatchedColumns: s.unmatchedColumns,
      seconds: s.seconds,
    });
    return;
  }
  say(`Imported ${kind} from ${file} (${s.encoding}) in ${s.seconds.toFixed(1)} s`);
  say(formatTable([{ read: s.read, inserted: s.inserted, updated: s.updated, rejected: s.rejected }]));
  if (s.unmatchedColumns.length) {
    say(
      kind === 'customers'
        ? `Columns kept as text attributes (map them with --mapping to change that): ${s.unmatchedColumns.join(', ')}`
        : `Columns ignored: ${s.unmatchedColumns.join(', ')}`,
    );
  }
  if (s.rejectsPath) say(`Rejected rows, with their row numbers and reasons: ${s.rejectsPath}`);
  if (s.warningsPath)
    say(`Rows imported with a warning (${s.warnings}), e.g. a postal code of another province: ${s.warningsPath}`);
}

export function registerImport(program: Command): void {
  const cmd = program.command('import').description('import customers, orders or offline responses from a CSV file');
  for (const kind of ['customers', 'orders'] as const) {
    cmd
      .command(`${kind} <file>`)
      .description(
        kind === 'customers'
          ? 'upsert customers by external_id from a CSV file with a header (UTF-8, UTF-8 with BOM or GBK)'
          : 'upsert orders by order_ref from a CSV file; each names its customer by external_id',
      )
      .option('--mapping <file>', 'YAML mapping of your column names to Mailroom fields (see README)')
      .option('--encoding <name>', 'file encoding (utf8, gbk, …); detected when omitted')
      .option(
        '--region <code>',
        'default country of rows without one, for phone numbers and postal codes (default: CN)',
      )
      .option('--timezone <tz>', 'time zone of date-times without an offset (default: Asia/Shanghai)')
      .option('--currency <code>', 'currency of amounts when the file has no currency column (default: CNY)')
      .option('--rejects <path>', 'where to write rejected rows (default: FILE.rejects.csv beside the input)')
      .option('--batch-size <n>', 'rows per COPY batch and set-based statement', positiveInt, 10_000)
      .option('--json', 'print the summary as JSON')
      .addHelpText(
        'after',
        '\nExit codes: 0 the file was read (rejected rows are in the rejects file), 3 the file or mapping could not be used, 4 the database is unreachable.',
      )
      .action((file: string, flags: ImportFlags) => importCommand(kind, file, flags));
  }
  registerImportResponses(cmd);
}
