// Validation off the importing thread: the main thread reads the file and feeds the database while
// worker threads validate, so an import uses both cores. Results come back in submission order.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { validateBatch, type BatchInput, type BatchResult, type ValidationSetup } from './validate-batch.ts';

const BOOTSTRAP = fileURLToPath(new URL('./worker-bootstrap.mjs', import.meta.url));
const MODULE = new URL('./validate-worker.ts', import.meta.url).href;

export interface Validator {
  validate(batch: BatchInput): Promise<BatchResult>;
  close(): Promise<void>;
}

/** Validation in the calling thread: for small files, where starting a thread costs more than it saves. */
export function inlineValidator(setup: ValidationSetup): Validator {
  return {
    validate: (batch) => Promise.resolve(validateBatch(setup, batch)),
    close: () => Promise.resolve(),
  };
}

export function threadValidator(setup: ValidationSetup, threads: number): Validator {
  const workers = Array.from(
    { length: Math.max(1, threads) },
    // A small young generation and a bounded old one keep the thread's memory flat: batches are
    // short-lived garbage, collected before the heap grows (a batch of 10,000 rows needs ~20 MB).
    () =>
      new Worker(BOOTSTRAP, {
        workerData: { module: MODULE, setup },
        resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 160 },
      }),
  );
  const pending = new Map<number, { resolve: (r: BatchResult) => void; reject: (e: Error) => void }>();
  let failed: Error | undefined;
  const fail = (error: Error) => {
    failed ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  for (const w of workers) {
    w.on('message', (msg: { id: number; result?: BatchResult; error?: string }) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`a validation thread failed: ${msg.error}`));
      else p.resolve(msg.result!);
    });
    w.on('error', (error) => fail(new Error(`a validation thread failed: ${error.message}`)));
    w.on('exit', (code) => {
      if (pending.size) fail(new Error(`a validation thread stopped (exit ${code}) during an import`));
    });
  }
  let next = 0;
  return {
    validate(batch) {
      if (failed) return Promise.reject(failed);
      const id = next++;
      return new Promise<BatchResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        workers[id % workers.length]!.postMessage({ id, batch });
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
