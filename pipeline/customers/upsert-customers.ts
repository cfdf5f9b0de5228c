// Writes one batch of customer records (with their consents) on a connection of its own, through
// the COPY staging and set-based upsert of the import (import/stage.ts). For callers that hold
// records rather than a file, such as benchmarks that prepare a database.
import type { Sql } from '../../db/connection.ts';
import { customerCopyLine, StagedWriter } from './import/stage.ts';
import type { CustomerRecord } from './records.ts';

/** Counts of the batch's customers inserted and updated; records must have distinct external_ids. */
export async function upsertCustomers(
  sql: Sql,
  records: CustomerRecord[],
  importId: number,
  source: string,
): Promise<{ inserted: number; updated: number }> {
  const writer = await StagedWriter.open(sql, 'customers', importId, { source, timezone: 'UTC' });
  try {
    const { inserted, updated } = await writer.write(records.map((r, i) => `${customerCopyLine(r, i + 1)}\n`).join(''));
    return { inserted, updated };
  } finally {
    await writer.close();
  }
}
