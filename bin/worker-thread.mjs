// The entry of Mailroom's worker threads (print rendering, imports): worker threads need the
// TypeScript loader registered again before they load their module (workerData.module).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
