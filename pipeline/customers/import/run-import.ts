// An import from start to finish: stream the file, validate each row, write accepted rows in
// batches, write refused rows to the rejects file. read = inserted + updated + rejected, always.
import { basename, dirname, extname, join } from 'node:path';
import { ExitCode, UserError } from '../../../config/errors.ts';
import type { Sql } from '../../../db/connection.ts';
import type { CustomerRecord, OrderRecord } from '../records.ts';
import { upsertCustomers } from '../upsert-customers.ts';
import { upsertOrders } from '../upsert-orders.ts';
import { openCsv } from './csv-file.ts';
import { displayEncoding } from './encoding.ts';
import { loadMappingFile, mapColumns, mappingFileSchema, type ImportKind } from './mapping.ts';
import { RejectsWriter } from './rejects.ts';
import { FieldError, parseCountry, parseCurrency, parseTimezone } from '../fields.ts';
import { validateCustomerRow, validateOrderRow, type RowSettings } from './validate-row.ts';

export interface ImportOptions {
  kind: ImportKind;
  file: string;
  mappingPath?: string | undefined;
  encoding?: string | undefined;
  region?: string | undefined;
  timezone?: string | undefined;
  currency?: string | undefined;
  rejectsPath?: string | undefined;
  batchSize?: number | undefined;
  onProgress?: (progress: { bytes: number; totalBytes: number; read: number }) => void;
}

export interface ImportSummary {
  read: number;
  inserted: number;
  updated: number;
  rejected: number;
  rejectsPath: string | null;
  importId: number;
  encoding: string;
  unmatchedColumns: string[];
  seconds: number;
}

export function defaultRejectsPath(file: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.rejects.csv`);
}

interface Pending<T> {
  row: number;
  line: number;
  fields: string[];
  raw: string;
  key: string;
  record: T;
}

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
  const batchSize = opts.batchSize ?? 1000;
  const source = await openCsv(opts.file, opts.encoding);
  const first = await source.records.next();
  if (first.done)
    throw new UserError(`${opts.file} is empty: expected a header line naming the columns`, ExitCode.badInput);
  if (first.value.error)
    throw new UserError(`${opts.file} line 1 (the header) cannot be read: ${first.value.error}`, ExitCode.badInput);
  const headers = first.value.fields;
  if (headers.some((h) => h.includes('\uFFFD'))) {
    throw new UserError(
      `the header line of ${opts.file} is not readable as ${displayEncoding(source.encoding.encoding)}. ${opts.encoding ? 'Leave --encoding out to detect the encoding, or name another (e.g. --encoding gbk).' : 'Name the encoding with --encoding.'}`,
      ExitCode.badInput,
    );
  }
  const mapping = mapColumns(opts.kind, headers, mappingFile, opts.mappingPath);

  const [imp] = await sql<{ id: number }[]>`
    insert into imports (kind, source, encoding) values (${opts.kind}, ${opts.file}, ${displayEncoding(source.encoding.encoding)}) returning id`;
  const importId = imp!.id;
  const rejects = new RejectsWriter(opts.rejectsPath ?? defaultRejectsPath(opts.file), headers);
  const summary = { read: 0, inserted: 0, updated: 0, rejected: 0 };

  type AnyRecord = CustomerRecord | OrderRecord;
  let batch: Pending<AnyRecord>[] = [];
  let keys = new Set<string>();

  const write = async (current: Pending<AnyRecord>[]) => {
    const outcomes =
      opts.kind === 'customers'
        ? await upsertCustomers(
            sql,
            current.map((p) => p.record as CustomerRecord),
            importId,
            `import:${basename(opts.file)}`,
          )
        : await upsertOrders(
            sql,
            current.map((p) => p.record as OrderRecord),
            importId,
            timezone,
          );
    for (const [i, outcome] of outcomes.entries()) {
      const p = current[i]!;
      if (outcome === 'inserted') summary.inserted++;
      else if (outcome === 'updated') summary.updated++;
      else {
        const keyField = opts.kind === 'customers' ? 'external_id' : 'order_ref';
        const reason =
          outcome === 'unknown_customer'
            ? `customer_external_id: ${JSON.stringify((p.record as OrderRecord).customer_external_id)} matches no customer; import the customer first`
            : `${keyField}: ${JSON.stringify(p.key)} appears on an earlier row of this file, which was imported; this row was not`;
        await rejects.write({ row: p.row, line: p.line, reasons: [reason], fields: p.fields, raw: p.raw });
        summary.rejected++;
      }
    }
    opts.onProgress?.({ bytes: source.bytesRead(), totalBytes: source.size, read: summary.read });
  };

  // The next batch is read and validated while the previous one is written. Writes stay one at
  // a time and in file order: the duplicate check depends on it.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (!batch.length) return;
    const current = batch;
    batch = [];
    keys = new Set();
    await inFlight;
    inFlight = write(current);
    inFlight.catch(() => {}); // observed by the next await, not lost
  };

  for await (const rec of source.records) {
    summary.read++;
    // Row numbers as a spreadsheet shows them: the header is row 1.
    const row = summary.read + 1;
    const result = rec.error
      ? { ok: false as const, reasons: [rec.error] }
      : opts.kind === 'customers'
        ? validateCustomerRow(mapping, rec.fields, settings)
        : validateOrderRow(mapping, rec.fields, settings);
    if (!result.ok) {
      await rejects.write({ row, line: rec.line, reasons: result.reasons, fields: rec.fields, raw: rec.raw });
      summary.rejected++;
      continue;
    }
    const key = 'external_id' in result.record ? result.record.external_id : result.record.order_ref;
    // Two rows for one key in the same batch would collide in one statement; the second goes to
    // the next batch, where the duplicate check sees the first.
    if (keys.has(key)) await flush();
    keys.add(key);
    batch.push({ row, line: rec.line, fields: rec.fields, raw: rec.raw, key, record: result.record });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  await inFlight;
  const rejectsPath = await rejects.close();
  await sql`
    update imports set finished_at = now(), read = ${summary.read}, inserted = ${summary.inserted},
      updated = ${summary.updated}, rejected = ${summary.rejected}, rejects_path = ${rejectsPath}
    where id = ${importId}`;
  return {
    ...summary,
    rejectsPath,
    importId,
    encoding: displayEncoding(source.encoding.encoding),
    unmatchedColumns: mapping.unmatched,
    seconds: (Date.now() - started) / 1000,
  };
}
