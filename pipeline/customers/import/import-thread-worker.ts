// The import thread (see import-thread.ts): one import on connections of its own.
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../../../config/errors.ts';
import { logger } from '../../../config/logger.ts';
import { connectDatabase } from '../../../db/connection.ts';
import { runResponseImport } from '../../responses/import/run.ts';
import type { ImportJob, ImportThreadMessage } from './import-thread.ts';
import { runImport } from './run-import.ts';

const { databaseUrl, job } = workerData as { databaseUrl: string; job: ImportJob };
const post = (msg: ImportThreadMessage) => parentPort!.postMessage(msg);
const onProgress = (progress: { bytes: number; totalBytes: number; read: number }) => post({ progress });
const sql = connectDatabase(databaseUrl, { max: 3, application: 'mailroom import' });
try {
  post({
    summary:
      job.job === 'records'
        ? await runImport(sql, { ...job.opts, onProgress })
        : await runResponseImport(sql, { ...job.opts, log: logger(), onProgress }),
  });
} catch (error) {
  const e = error as Error;
  post({
    error: { message: e.message, stack: e.stack, exitCode: error instanceof UserError ? error.exitCode : undefined },
  });
} finally {
  await sql.end({ timeout: 5 });
}
