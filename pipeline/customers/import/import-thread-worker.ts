// The import thread (see import-thread.ts): one import on connections of its own.
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../../../config/errors.ts';
import { connectDatabase } from '../../../db/connection.ts';
import type { ImportThreadMessage, ThreadImportOptions } from './import-thread.ts';
import { runImport } from './run-import.ts';

const { databaseUrl, opts } = workerData as { databaseUrl: string; opts: ThreadImportOptions };
const post = (msg: ImportThreadMessage) => parentPort!.postMessage(msg);
const sql = connectDatabase(databaseUrl, { max: 3, application: 'mailroom import' });
try {
  post({ summary: await runImport(sql, { ...opts, onProgress: (progress) => post({ progress }) }) });
} catch (error) {
  const e = error as Error;
  post({
    error: { message: e.message, stack: e.stack, exitCode: error instanceof UserError ? error.exitCode : undefined },
  });
} finally {
  await sql.end({ timeout: 5 });
}
