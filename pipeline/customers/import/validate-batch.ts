// Validates a batch of CSV records and turns the accepted ones into COPY text, in the importing
// thread: the database work is most of an import's time, and it has the other core.
import type { ColumnMapping, ImportKind } from './mapping.ts';
import { customerCopyLine, orderCopyLine } from './stage.ts';
import { validateCustomerRow, validateOrderRow, type RowSettings } from './validate-row.ts';

export interface ValidationSetup {
  kind: ImportKind;
  mapping: ColumnMapping;
  settings: RowSettings;
}

export interface BatchInput {
  /** Row numbers (the header is row 1), one per record. */
  rows: number[];
  fields: string[][];
}

export interface BatchResult {
  /** The accepted rows as COPY text, one line each. */
  copy: string;
  accepted: number;
  /** The key (external_id or order_ref) of each accepted row, as written. */
  keys: string[];
  /** Index in the batch and reasons of each refused record. */
  rejects: { index: number; reasons: string[] }[];
  warnings: { index: number; warnings: string[] }[];
}

export function validateBatch(setup: ValidationSetup, batch: BatchInput): BatchResult {
  const lines: string[] = [];
  const keys: string[] = [];
  const rejects: BatchResult['rejects'] = [];
  const warnings: BatchResult['warnings'] = [];
  for (let index = 0; index < batch.fields.length; index++) {
    const fields = batch.fields[index]!;
    const n = batch.rows[index]!;
    if (setup.kind === 'customers') {
      const result = validateCustomerRow(setup.mapping, fields, setup.settings);
      if (!result.ok) rejects.push({ index, reasons: result.reasons });
      else {
        lines.push(customerCopyLine(result.record, n));
        keys.push(result.record.external_id);
        if (result.warnings) warnings.push({ index, warnings: result.warnings });
      }
    } else {
      const result = validateOrderRow(setup.mapping, fields, setup.settings);
      if (!result.ok) rejects.push({ index, reasons: result.reasons });
      else {
        lines.push(orderCopyLine(result.record, n));
        keys.push(result.record.order_ref);
      }
    }
  }
  return { copy: lines.length ? lines.join('\n') + '\n' : '', accepted: lines.length, keys, rejects, warnings };
}

/**
 * validateBatch a slice of rows at a time, with a turn of the event loop in between, so that the
 * connections writing earlier batches are kept fed while this batch is checked.
 */
export async function validateInSlices(
  setup: ValidationSetup,
  batch: BatchInput,
  sliceRows = 1_000,
): Promise<BatchResult> {
  const out: BatchResult = { copy: '', accepted: 0, keys: [], rejects: [], warnings: [] };
  for (let from = 0; from < batch.fields.length; from += sliceRows) {
    if (from) await new Promise((resolve) => setImmediate(resolve));
    const part = validateBatch(setup, {
      rows: batch.rows.slice(from, from + sliceRows),
      fields: batch.fields.slice(from, from + sliceRows),
    });
    out.copy += part.copy;
    out.accepted += part.accepted;
    for (const k of part.keys) out.keys.push(k);
    for (const r of part.rejects) out.rejects.push({ ...r, index: r.index + from });
    for (const w of part.warnings) out.warnings.push({ ...w, index: w.index + from });
  }
  return out;
}
