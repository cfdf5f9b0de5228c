// Validates a batch of CSV records and turns the accepted ones into COPY text. Runs on a worker
// thread for large files (validate-pool.ts) and in the importing thread for small ones.
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
  /** Index in the batch and reasons of each refused record. */
  rejects: { index: number; reasons: string[] }[];
  warnings: { index: number; warnings: string[] }[];
}

export function validateBatch(setup: ValidationSetup, batch: BatchInput): BatchResult {
  const lines: string[] = [];
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
        if (result.warnings) warnings.push({ index, warnings: result.warnings });
      }
    } else {
      const result = validateOrderRow(setup.mapping, fields, setup.settings);
      if (!result.ok) rejects.push({ index, reasons: result.reasons });
      else lines.push(orderCopyLine(result.record, n));
    }
  }
  return { copy: lines.length ? lines.join('\n') + '\n' : '', accepted: lines.length, rejects, warnings };
}
