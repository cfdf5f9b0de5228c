// Renders print files on worker threads, one per core, so a large wave keeps the worker's event
// loop free and uses every core.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PiecePages } from './render-document.ts';
import type { RenderJob } from './render-worker.ts';
import { UserError, type ExitCodeValue } from '../../../config/errors.ts';

const BOOTSTRAP = fileURLToPath(new URL('../../../bin/worker-thread.mjs', import.meta.url));
const MODULE = new URL('./render-worker.ts', import.meta.url).href;

export class RenderPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly workers: Worker[] = [];
  private nextId = 0;

  private closing = false;

  constructor(size = availableParallelism()) {
    for (let i = 0; i < Math.max(1, size); i++) this.idle.push(this.spawn());
  }

  private spawn(): Worker {
    const worker = new Worker(BOOTSTRAP, { workerData: { module: MODULE } });
    this.workers.push(worker);
    return worker;
  }

  /** A thread that died (out of memory, a crash) is replaced, never handed another job. */
  private replace(dead: Worker): void {
    const i = this.workers.indexOf(dead);
    if (i !== -1) this.workers.splice(i, 1);
    if (!this.closing) this.release(this.spawn());
  }

  get size(): number {
    return this.workers.length;
  }

  private acquire(): Promise<Worker> {
    const w = this.idle.pop();
    return w ? Promise.resolve(w) : new Promise((r) => this.waiting.push(r));
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  async render(job: Omit<RenderJob, 'id'>): Promise<PiecePages[]> {
    const worker = await this.acquire();
    const id = this.nextId++;
    let alive = true;
    try {
      return await new Promise<PiecePages[]>((resolveJob, reject) => {
        const done = () => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
        };
        const onMessage = (msg: { id: number; pages?: PiecePages[]; error?: string; exitCode?: ExitCodeValue }) => {
          if (msg.id !== id) return;
          done();
          // A user's mistake (a template naming a missing field) keeps its exit code across the thread.
          if (msg.error) reject(msg.exitCode ? new UserError(msg.error, msg.exitCode) : new Error(msg.error));
          else resolveJob(msg.pages!);
        };
        const onError = (error: Error) => {
          done();
          alive = false;
          reject(new Error(`a render thread failed while writing ${job.path}: ${error.message}`));
        };
        const onExit = (code: number) => {
          done();
          alive = false;
          reject(new Error(`a render thread stopped (exit ${code}) while writing ${job.path}`));
        };
        worker.on('message', onMessage);
        worker.once('error', onError);
        worker.once('exit', onExit);
        worker.postMessage({ ...job, id });
      });
    } finally {
      if (alive) this.release(worker);
      else this.replace(worker);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
