// An import from start to finish: the file is streamed and validated a batch at a time, accepted
// rows go through COPY into a staging table and are applied with set-based statements (stage.ts)
// on two connections at once for larger files, refused rows go to the rejects file.
// read = inserted + updated + rejected, always. The CLI runs this in a thread with a bounded heap
// (import-thread.ts).
import { basename, dirname, extname, join } from 'node:path';
import { ExitCode, UserError } from '../../../config/errors.ts';
import type { Sql } from '../../../db/connection.ts';
import { openCsv } from './csv-file.ts';
import type { CsvRecord } from './csv-records.ts';
import { displayEncoding } from './encoding.ts';
import { loadMappingFile, mapColumns, mappingFileSchema, type ImportKind } from './mapping.ts';
import { RejectsWriter } from './rejects.ts';
import { FieldError, parseCountry, parseCurrency, parseTimezone } from '../fields.ts';
import { StagedWriter, type BatchOutcome } from './stage.ts';
import { validateInSlices, type BatchResult } from './validate-batch.ts';
import type { RowSettings } from './validate-row.ts';

/** What every CSV import (customers, orders, responses) is told: the file, how to read it, where rejects go. */
export interface CsvImportOptions {
  file: string;
  mappingPath?: string | undefined;
  encoding?: string | undefined;
  region?: string | undefined;
  timezone?: string | undefined;
  currency?: string | undefined;
  rejectsPath?: string | undefined;
  /** Rows per COPY and set-based statement (default 10,000). */
  batchSize?: number | undefined;
  onProgress?: (progress: { bytes: number; totalBytes: number; read: number }) => void;
}

export interface ImportOptions extends CsvImportOptions {
  kind: ImportKind;
  /** Where rows imported with a warning are listed (default FILE.warnings.csv). */
  warningsPath?: string | undefined;
  /** Connections that write batches at once (default: 2 for files of 2 MB or more, else 1). */
  connections?: number | undefined;
}

export interface ImportSummary {
  read: number;
  inserted: number;
  updated: number;
  rejected: number;
  rejectsPath: string | null;
  warnings: number;
  warningsPath: string | null;
  importId: number;
  encoding: string;
  unmatchedColumns: string[];
  seconds: number;
}

/** The pool's size (postgres.js keeps its options on the instance). */
function poolSize(sql: Sql): number {
  return (sql as unknown as { options?: { max?: number } }).options?.max ?? 1;
}

export function defaultRejectsPath(file: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.rejects.csv`);
}

export function defaultWarningsPath(file: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.warnings.csv`);
}

interface Pending {
  rows: number[];
  lines: number[];
  fields: string[][];
  raws: string[];
}

// Files smaller than this are written on one connection: a second would not pay for itself.
const TWO_CONNECTIONS_MIN_BYTES = 2 * 1024 * 1024;
// A batch ends at batchSize rows, or at this many characters of the file, so that rows with long
// fields cannot make one batch large (a typical 10,000-row batch is under 2 MB). Batches in flight
// are one more than the connections writing them: memory stays flat whatever the file's size.
export const MAX_BATCH_CHARS = 4 * 1024 * 1024;

export async function runImport(sql: Sql, opts: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const mappingFile = opts.mappingPath ? loadMappingFile(opts.mappingPath) : mappingFileSchema.parse({});
  // Defaults from flags or the mapping file pass the same checks as cell values, naming their source.
  const setting = <T>(label: string, value: string, parse: (v: string) => T): T => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof FieldError)
        throw new UserError(`${label} ${JSON.stringify(value)} ${error.message}`, ExitCode.usage);
      throw error;
    }
  };
  const where = (flag: string, key: string, given: string | undefined) =>
    given !== undefined ? flag : `${opts.mappingPath}: defaults.${key}`;
  const countryGiven = opts.region ?? mappingFile.defaults.country ?? mappingFile.defaults.region ?? 'CN';
  const settings: RowSettings = {
    country: setting(where('--region', 'country', opts.region), countryGiven, parseCountry),
    currency: setting(
      where('--currency', 'currency', opts.currency),
      opts.currency ?? mappingFile.defaults.currency ?? 'CNY',
      parseCurrency,
    ),
    today: new Date().toISOString().slice(0, 10),
  };
  const timezone = setting(
    where('--timezone', 'timezone', opts.timezone),
    opts.timezone ?? mappingFile.defaults.timezone ?? 'Asia/Shanghai',
    parseTimezone,
  );
  const batchSize = opts.batchSize ?? 10_000;
  const source = await openCsv(opts.file, opts.encoding);
  // The header is the first record; the rest of its piece of the file is read as rows.
  let firstChunk: CsvRecord[] = [];
  for (let c = await source.chunks.next(); !c.done; c = await source.chunks.next()) {
    if (c.value.length) {
      firstChunk = c.value;
      break;
    }
  }
  const first = firstChunk.shift();
  if (!first)
    throw new UserError(`${opts.file} is empty: expected a header line naming the columns`, ExitCode.badInput);
  if (first.error)
    throw new UserError(`${opts.file} line 1 (the header) cannot be read: ${first.error}`, ExitCode.badInput);
  const headers = first.fields;
  if (headers.some((h) => h.includes('\uFFFD'))) {
    throw new UserError(
      `the header line of ${opts.file} is not readable as ${displayEncoding(source.encoding.encoding)}. ${opts.encoding ? 'Leave --encoding out to detect the encoding, or name another (e.g. --encoding gbk).' : 'Name the encoding with --encoding.'}`,
      ExitCode.badInput,
    );
  }
  const mapping = mapColumns(opts.kind, headers, mappingFile, opts.mappingPath);
  // From here a record that spans lines must have the header's width, or its first line is a stray quote.
  source.reader.width = headers.length;

  const [imp] = await sql<{ id: number }[]>`
    insert into imports (kind, source, encoding) values (${opts.kind}, ${opts.file}, ${displayEncoding(source.encoding.encoding)}) returning id`;
  const importId = imp!.id;
  const rejects = new RejectsWriter(opts.rejectsPath ?? defaultRejectsPath(opts.file), headers);
  const warnings = new RejectsWriter(opts.warningsPath ?? defaultWarningsPath(opts.file), headers, 'warning');
  const summary = { read: 0, inserted: 0, updated: 0, rejected: 0, warnings: 0 };
  const setup = { kind: opts.kind, mapping, settings };
  const connections = Math.min(
    opts.connections ?? (source.size >= TWO_CONNECTIONS_MIN_BYTES ? 2 : 1),
    // One connection of the pool stays free for the import's own bookkeeping.
    Math.max(1, poolSize(sql) - 1),
  );
  const writers: StagedWriter[] = [];
  try {
    for (let i = 0; i < connections; i++)
      writers.push(
        await StagedWriter.open(sql, opts.kind, importId, { source: `import:${basename(opts.file)}`, timezone }),
      );
  } catch (error) {
    for (const w of writers) await w.close();
    throw error;
  }
  const keyField = opts.kind === 'customers' ? 'external_id' : 'order_ref';

  const reject = (p: Pending, i: number, reasons: string[]) => {
    summary.rejected++;
    return rejects.write({ row: p.rows[i]!, line: p.lines[i]!, reasons, fields: p.fields[i]!, raw: p.raws[i]! });
  };

  // The database work is most of an import's time and one connection uses one core, so batches
  // are written on several connections at once. A batch that shares a key with the batch before
  // it waits for that one: the first row of a key in file order is always the one written.
  let previous: { keys: Promise<Set<string>>; written: Promise<BatchOutcome> } | undefined;
  const writerChains: Promise<unknown>[] = writers.map(() => Promise.resolve());
  let batchNo = 0;
  const write = (validated: Promise<BatchResult>): Promise<BatchOutcome> => {
    const w = batchNo++ % writers.length;
    const before = previous;
    const written = writerChains[w]!.then(async () => {
      const result = await validated;
      if (before && writers.length > 1) {
        const earlier = await before.keys;
        if (result.keys.some((k) => earlier.has(k))) await before.written;
      }
      return writers[w]!.write(result.copy);
    });
    written.catch(() => {}); // observed by apply
    writerChains[w] = written;
    previous = { keys: validated.then((r) => new Set(r.keys)), written };
    previous.keys.catch(() => {}); // observed by apply
    return written;
  };

  // Rejects, warnings, counts and progress are taken batch by batch in file order.
  const apply = async (p: Pending, validated: Promise<BatchResult>, written: Promise<BatchOutcome>) => {
    const result = await validated;
    for (const r of result.rejects) await reject(p, r.index, r.reasons);
    for (const w of result.warnings) {
      summary.warnings++;
      await warnings.write({
        row: p.rows[w.index]!,
        line: p.lines[w.index]!,
        reasons: w.warnings,
        fields: p.fields[w.index]!,
        raw: p.raws[w.index]!,
      });
    }
    const outcome = await written;
    summary.inserted += outcome.inserted;
    summary.updated += outcome.updated;
    if (outcome.duplicates.length || outcome.unknownCustomers.length) {
      const index = new Map(p.rows.map((row, i) => [row, i]));
      const refused = [
        ...outcome.duplicates.map((row) => ({ row, unknown: false })),
        ...outcome.unknownCustomers.map((row) => ({ row, unknown: true })),
      ].sort((a, b) => a.row - b.row);
      for (const { row, unknown } of refused) {
        const i = index.get(row)!;
        const key = p.fields[i]![mapping.fieldIndex.get(unknown ? 'customer_external_id' : keyField)!]!.trim();
        await reject(p, i, [
          unknown
            ? `customer_external_id: ${JSON.stringify(key)} matches no customer; import the customer first`
            : `${keyField}: ${JSON.stringify(key)} appears on an earlier row of this file, which was imported; this row was not`,
        ]);
      }
    }
    opts.onProgress?.({ bytes: source.bytesRead(), totalBytes: source.size, read: summary.read });
  };

  const inFlight: Promise<void>[] = [];
  let chain: Promise<void> = Promise.resolve();
  let batch: Pending = { rows: [], lines: [], fields: [], raws: [] };
  let batchChars = 0;
  const dispatch = async () => {
    if (!batch.rows.length) return;
    const p = batch;
    batch = { rows: [], lines: [], fields: [], raws: [] };
    batchChars = 0;
    const validated = validateInSlices(setup, { rows: p.rows, fields: p.fields });
    validated.catch(() => {}); // observed by apply
    const written = write(validated);
    chain = chain.then(() => apply(p, validated, written));
    inFlight.push(chain);
    chain.catch(() => {}); // observed below
    if (inFlight.length > writers.length) await inFlight.shift();
  };

  try {
    const rest = async function* () {
      yield firstChunk;
      yield* source.chunks;
    };
    for await (const chunk of rest())
      for (const rec of chunk) {
        summary.read++;
        // Row numbers as a spreadsheet shows them: the header is row 1.
        const row = summary.read + 1;
        if (rec.error) {
          summary.rejected++;
          await rejects.write({ row, line: rec.line, reasons: [rec.error], fields: rec.fields, raw: rec.raw });
          continue;
        }
        batch.rows.push(row);
        batch.lines.push(rec.line);
        batch.fields.push(rec.fields);
        batch.raws.push(rec.raw);
        batchChars += rec.raw.length;
        if (batch.rows.length >= batchSize || batchChars >= MAX_BATCH_CHARS) await dispatch();
      }
    await dispatch();
    await chain;
  } finally {
    // Every write has ended (or failed) before its connection goes back to the pool.
    await Promise.allSettled(writerChains);
    for (const w of writers) await w.close();
  }
  const rejectsPath = await rejects.close();
  const warningsPath = await warnings.close();
  const encoding = source.encodingRead();
  await sql`
    update imports set finished_at = now(), read = ${summary.read}, inserted = ${summary.inserted},
      updated = ${summary.updated}, rejected = ${summary.rejected}, rejects_path = ${rejectsPath},
      encoding = ${encoding}
    where id = ${importId}`;
  return {
    ...summary,
    rejectsPath,
    warningsPath,
    importId,
    encoding,
    unmatchedColumns: mapping.unmatched,
    seconds: (Date.now() - started) / 1000,
  };
}
