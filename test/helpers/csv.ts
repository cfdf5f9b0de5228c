// Builds CSV files for import tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { CsvRecordReader } from '../../pipeline/customers/import/csv-records.ts';

export function tempDir(prefix = 'mailroom-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

export function csvText(rows: string[][]): string {
  return rows.map((r) => r.map(quote).join(',')).join('\n') + '\n';
}

export function writeCsv(
  dir: string,
  name: string,
  rows: string[][],
  encoding: 'utf8' | 'utf8-bom' | 'gbk' = 'utf8',
): string {
  const path = join(dir, name);
  const text = csvText(rows);
  const bytes =
    encoding === 'gbk'
      ? iconv.encode(text, 'gbk')
      : Buffer.from((encoding === 'utf8-bom' ? '\uFEFF' : '') + text, 'utf8');
  writeFileSync(path, bytes);
  return path;
}

/** Parses a rejects file (UTF-8 with BOM) into objects keyed by its header. */
export function parseRejects(text: string): Record<string, string>[] {
  const reader = new CsvRecordReader();
  const records = [...reader.push(text.replace(/^\uFEFF/, '')), ...reader.end()];
  const [header, ...rows] = records.map((r) => r.fields);
  return rows.map((fields) => Object.fromEntries(header!.map((h, i) => [h, fields[i] ?? ''])));
}
