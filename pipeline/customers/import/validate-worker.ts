// A worker thread that validates batches for an import: set up once, then one message per batch.
import { parentPort, workerData } from 'node:worker_threads';
import { validateBatch, type BatchInput, type ValidationSetup } from './validate-batch.ts';

const setup = (workerData as { setup: ValidationSetup }).setup;

parentPort!.on('message', (msg: { id: number; batch: BatchInput }) => {
  try {
    parentPort!.postMessage({ id: msg.id, result: validateBatch(setup, msg.batch) });
  } catch (error) {
    parentPort!.postMessage({ id: msg.id, error: (error as Error).stack ?? String(error) });
  }
});
