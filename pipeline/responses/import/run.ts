// `mailroom import responses`: streams a file of offline responses (till, ERP, spreadsheet), checks
// each row, and matches and writes a batch at a time through COPY and set-based statements
// (stage.ts), so memory stays flat and a large file runs at the database's speed. Rows with bad
// values, rows that match nobody and rows naming an unknown campaign go to the rejects file with
// the reason. read = matched + duplicates + unmatched + rejected, always.
import { basename, dirname, extname, join } from 'node:path';
import type { Logger } from 'pino';
import { ExitCode, UserError } from '../../../config/errors.ts';
import type { Sql } from '../../../db/connection.ts';
import { FieldError, parseCountry, parseCurrency, parseTimezone } from '../../customers/fields.ts';
import { openCsv } from '../../customers/import/csv-file.ts';
import { displayEncoding } from '../../customers/import/encoding.ts';
import { loadMappingFile, mappingFileSchema } from '../../customers/import/mapping.ts';
import { RejectsWriter } from '../../customers/import/rejects.ts';
import { storeMissingCodes } from '../member-codes.ts';
import { mapResponseColumns, type MatchedBy, type ResponseColumns, type ResponseField } from './columns.ts';
import { ResponseStage, type RowOutcome } from './stage.ts';
import { parseSourceName, responseCopyLine, validateResponseRow, type ResponseRowSettings } from './validate-row.ts';
import { MAX_BATCH_CHARS, type CsvImportOptions } from '../../customers/import/run-import.ts';

export interface ResponseImportOptions extends CsvImportOptions {
  /** The system the file comes from, for rows that do not name theirs in a `source` column; with each
   * row's source_id it says which rows are the same response. One of the two is required. */
  source?: string | undefined;
  /** The installation secret, to store the response codes of members who have none yet (absent: none are stored). */
  secret?: string | undefined;
  log: Logger;
}

export interface ResponseImportSummary {
  read: number;
  matched: number;
  duplicates: number;
  unmatched: number;
  rejected: number;
  /** Matched rows by the key that found the customer. */
  matchedBy: Record<MatchedBy, number>;
  /** The --source given, or null when the file's source column names each row's. */
  source: string | null;
  rejectsPath: string | null;
  importId: number;
  encoding: string;
  ignoredColumns: string[];
  seconds: number;
}

/** A row of the current batch: refused already (reasons), or staged for the database. */
interface Item {
  row: number;
  line: number;
  fields: string[];
  raw: string;
  reasons?: string[];
}

interface Pending {
  items: Item[];
  copy: string[];
}

const empty = (): Pending => ({ items: [], copy: [] });

function rejectsPathFor(file: string): string {
  return join(dirname(file), `${basename(file, extname(file))}.rejects.csv`);
}

function settingOf(label: string, value: string, parse: (v: string) => string): string {
  try {
    return parse(value);
  } catch (error) {
    if (error instanceof FieldError)
      throw new UserError(`${label} ${JSON.stringify(value)} ${error.message}`, ExitCode.usage);
    throw error;
  }
}

/** Why a row that was checked and staged was not written, in words for the rejects file. */
function unmatchedReason(o: RowOutcome, fields: string[], columns: ResponseColumns): string {
  const value = (k: ResponseField) => {
    const i = columns.index.get(k);
    return i === undefined ? '' : (fields[i] ?? '').trim();
  };
  if (o.status === 'unknown_campaign')
    return `campaign: ${JSON.stringify(value('campaign'))} is no campaign's slug or name`;
  if (o.status === 'campaign_conflict')
    return `campaign: ${JSON.stringify(value('campaign'))} is not the campaign of the response code (${o.codeCampaign})`;
  const tried: string[] = [];
  if (value('code')) tried.push(`code ${JSON.stringify(value('code'))} is no member's response code`);
  if (value('external_id')) tried.push(`external_id ${JSON.stringify(value('external_id'))} is no customer`);
  if (value('phone'))
    tried.push(
      `phone ${JSON.stringify(value('phone'))} ${o.phoneMatches > 1 ? 'belongs to several customers' : 'is no customer’s'}`,
    );
  if (value('email'))
    tried.push(
      `email ${JSON.stringify(value('email'))} ${o.emailMatches > 1 ? 'belongs to several customers' : 'is no customer’s'}`,
    );
  return `matches no customer: ${tried.join('; ')}`;
}

// Batches read ahead of the database at most: memory stays flat whatever the file's size.
const MAX_IN_FLIGHT = 2;
const YIELD_EVERY = 200;

export async function runResponseImport(sql: Sql, opts: ResponseImportOptions): Promise<ResponseImportSummary> {
  const started = Date.now();
  const mappingFile = opts.mappingPath ? loadMappingFile(opts.mappingPath) : mappingFileSchema.parse({});
  const where = (flag: string, key: string, given: string | undefined) =>
    given !== undefined ? flag : `${opts.mappingPath}: defaults.${key}`;
  const settings: ResponseRowSettings = {
    country: settingOf(
      where('--region', 'country', opts.region),
      opts.region ?? mappingFile.defaults.country ?? mappingFile.defaults.region ?? 'CN',
      parseCountry,
    ),
    currency: settingOf(
      where('--currency', 'currency', opts.currency),
      opts.currency ?? mappingFile.defaults.currency ?? 'CNY',
      parseCurrency,
    ),
    source: undefined,
    latestDay: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
  };
  const timezone = settingOf(
    where('--timezone', 'timezone', opts.timezone),
    opts.timezone ?? mappingFile.defaults.timezone ?? 'Asia/Shanghai',
    parseTimezone,
  );
  const sourceName = opts.source === undefined ? undefined : settingOf('--source', opts.source.trim(), parseSourceName);
  const batchSize = opts.batchSize ?? 10_000;

  const source = await openCsv(opts.file, opts.encoding);
  const first = await source.records.next();
  if (first.done)
    throw new UserError(`${opts.file} is empty: expected a header line naming the columns`, ExitCode.badInput);
  if (first.value.error)
    throw new UserError(`${opts.file} line 1 (the header) cannot be read: ${first.value.error}`, ExitCode.badInput);
  const headers = first.value.fields;
  if (headers.some((h) => h.includes('\uFFFD')))
    throw new UserError(
      `the header line of ${opts.file} is not readable as ${displayEncoding(source.encoding.encoding)}. ${opts.encoding ? 'Leave --encoding out to detect the encoding, or name another (e.g. --encoding gbk).' : 'Name the encoding with --encoding.'}`,
      ExitCode.badInput,
    );
  const columns = mapResponseColumns(headers, mappingFile, opts.mappingPath);
  if (sourceName === undefined && !columns.index.has('source'))
    throw new UserError(
      `name the system ${opts.file} comes from with --source NAME (e.g. --source pos, --source erp), or give the file a source column: with each row's source_id it tells a response already imported from a new one, whatever the files are called`,
      ExitCode.usage,
    );
  settings.source = sourceName;
  source.reader.width = headers.length;

  // Codes are matched set-based against campaign_members.response_code: store the missing ones first.
  if (columns.index.has('code') && opts.secret) await storeMissingCodes(sql, opts.secret, opts.log);

  const [imp] = await sql<{ id: number }[]>`
    insert into imports (kind, source, encoding)
    values ('responses', ${opts.file}, ${displayEncoding(source.encoding.encoding)}) returning id`;
  const importId = imp!.id;
  const rejects = new RejectsWriter(opts.rejectsPath ?? rejectsPathFor(opts.file), headers);
  const matchedBy: Record<MatchedBy, number> = { code: 0, customer: 0, phone: 0, email: 0 };
  const summary = { read: 0, matched: 0, duplicates: 0, unmatched: 0, rejected: 0 };
  const stage = await ResponseStage.open(sql, importId, { timezone });

  const apply = async (p: Pending) => {
    const { outcomes, written } = await stage.write(p.copy.length ? p.copy.join('\n') + '\n' : '');
    const byRow = new Map(outcomes.map((o) => [o.n, o]));
    // In file order, so that the rejects file reads as the input does.
    for (const item of p.items) {
      const o = byRow.get(item.row);
      if (!o) {
        summary.rejected++;
        await rejects.write({ ...item, reasons: item.reasons ?? ['was not matched (an internal error)'] });
      } else if (o.status === 'matched') {
        if (written.has(o.n)) {
          summary.matched++;
          matchedBy[o.matchedBy!]++;
        } else summary.duplicates++;
      } else {
        if (o.status === 'unmatched') summary.unmatched++;
        else summary.rejected++;
        await rejects.write({ ...item, reasons: [unmatchedReason(o, item.fields, columns)] });
      }
    }
    opts.onProgress?.({ bytes: source.bytesRead(), totalBytes: source.size, read: summary.read });
  };

  const inFlight: Promise<void>[] = [];
  let chain: Promise<void> = Promise.resolve();
  let batch = empty();
  // Batches end at batchSize rows or MAX_BATCH_CHARS characters of the file, as for customers.
  let batchChars = 0;
  const dispatch = async () => {
    if (!batch.items.length) return;
    const p = batch;
    batch = empty();
    batchChars = 0;
    chain = chain.then(() => apply(p));
    inFlight.push(chain);
    chain.catch(() => {}); // observed below
    if (inFlight.length >= MAX_IN_FLIGHT) await inFlight.shift();
  };

  try {
    for await (const rec of source.records) {
      summary.read++;
      // Checking rows keeps this thread busy; a pause now and then lets the database's replies in, so
      // the statements of the batch in flight follow each other without waiting for a whole chunk.
      if (summary.read % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
      // Row numbers as a spreadsheet shows them: the header is row 1.
      const row = summary.read + 1;
      const result = rec.error
        ? { ok: false as const, reasons: [rec.error] }
        : validateResponseRow(columns, rec.fields, settings);
      const item: Item = { row, line: rec.line, fields: rec.fields, raw: rec.raw };
      if (result.ok) batch.copy.push(responseCopyLine(result.record, row));
      else item.reasons = result.reasons;
      batch.items.push(item);
      batchChars += rec.raw.length;
      if (batch.items.length >= batchSize || batchChars >= MAX_BATCH_CHARS) await dispatch();
    }
    await dispatch();
    await chain;
  } finally {
    await stage.close();
  }
  const rejectsPath = await rejects.close();
  const encoding = source.encodingRead();
  await sql`
    update imports set finished_at = now(), read = ${summary.read}, inserted = ${summary.matched},
      matched = ${summary.matched}, duplicates = ${summary.duplicates}, unmatched = ${summary.unmatched},
      rejected = ${summary.rejected}, matched_by = ${sql.json(matchedBy)}, rejects_path = ${rejectsPath},
      encoding = ${encoding}
    where id = ${importId}`;
  return {
    ...summary,
    matchedBy,
    source: sourceName ?? null,
    rejectsPath,
    importId,
    encoding,
    ignoredColumns: columns.ignored,
    seconds: (Date.now() - started) / 1000,
  };
}
