// Loads the TypeScript validation worker inside a worker thread (worker threads need their own loader).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
