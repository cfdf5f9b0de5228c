// An import run in a thread of its own with a bounded heap. Left alone, V8 lets a long import's
// heap grow to several hundred MB of short-lived rows before it collects them; with a bound it
// collects sooner and the process stays flat (batches are bounded in rows and bytes, so the live
// data fit well inside). The thread opens its own connections; progress comes back as messages
// and a UserError keeps its message and exit code.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError, type ExitCodeValue } from '../../../config/errors.ts';
import type { ResponseImportOptions, ResponseImportSummary } from '../../responses/import/run.ts';
import type { CsvImportOptions, ImportOptions, ImportSummary } from './run-import.ts';

const BOOTSTRAP = fileURLToPath(new URL('../../../bin/worker-thread.mjs', import.meta.url));
const MODULE = new URL('./import-thread-worker.ts', import.meta.url).href;

// The import thread's heap, in MB. A smaller young generation makes the collector run so often
// that it costs as much CPU as the import itself.
export const IMPORT_HEAP = { oldMb: 128, youngMb: 32 };

type Progress = CsvImportOptions['onProgress'];

/** What the thread runs: customers or orders (runImport), or offline responses (runResponseImport). */
export type ImportJob =
  | { job: 'records'; opts: Omit<ImportOptions, 'onProgress'> }
  | { job: 'responses'; opts: Omit<ResponseImportOptions, 'onProgress' | 'log'> };

export type ImportThreadMessage =
  | { progress: { bytes: number; totalBytes: number; read: number } }
  | { summary: ImportSummary | ResponseImportSummary }
  | { error: { message: string; stack?: string | undefined; exitCode?: ExitCodeValue | undefined } };

export function runImportInThread(databaseUrl: string, opts: ImportOptions): Promise<ImportSummary> {
  const { onProgress, ...rest } = opts;
  return runInThread(databaseUrl, { job: 'records', opts: rest }, onProgress) as Promise<ImportSummary>;
}

/** The responses import in the thread; the thread logs through its own logger. */
export function runResponseImportInThread(
  databaseUrl: string,
  opts: Omit<ResponseImportOptions, 'log'>,
): Promise<ResponseImportSummary> {
  const { onProgress, ...rest } = opts;
  return runInThread(databaseUrl, { job: 'responses', opts: rest }, onProgress) as Promise<ResponseImportSummary>;
}

function runInThread(
  databaseUrl: string,
  job: ImportJob,
  onProgress: Progress,
): Promise<ImportSummary | ResponseImportSummary> {
  const worker = new Worker(BOOTSTRAP, {
    workerData: { module: MODULE, databaseUrl, job },
    resourceLimits: { maxOldGenerationSizeMb: IMPORT_HEAP.oldMb, maxYoungGenerationSizeMb: IMPORT_HEAP.youngMb },
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    worker.on('message', (msg: ImportThreadMessage) => {
      if ('progress' in msg) onProgress?.(msg.progress);
      else if ('summary' in msg) settle(() => resolve(msg.summary));
      else
        settle(() => {
          const e = msg.error;
          const error = e.exitCode !== undefined ? new UserError(e.message, e.exitCode) : new Error(e.message);
          if (e.stack && e.exitCode === undefined) error.stack = e.stack;
          reject(error);
        });
    });
    worker.on('error', (error) =>
      settle(() =>
        reject(
          (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new Error(
                `the import ran out of its ${IMPORT_HEAP.oldMb} MB heap; try a smaller --batch-size (${job.opts.batchSize ?? 10_000} now)`,
              )
            : error,
        ),
      ),
    );
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`the import thread stopped (exit ${code}) before it finished`))),
    );
  });
}
