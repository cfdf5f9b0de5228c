// A real worker on the run's Temporal dev server, on a task queue of its own.
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import type { TemporalTarget } from '../../config/temporal.ts';
import { createMailroomWorker, WORKFLOWS_PATH, type WorkerSettings } from '../../worker/run-worker.ts';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundled once per test process: bundling takes seconds. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
  });
  return bundle;
}

export function testTarget(): TemporalTarget {
  return {
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    taskQueue: `test-${randomBytes(4).toString('hex')}`,
  };
}

export async function startTestWorker(databaseUrl: string, target: TemporalTarget, campaign?: WorkerSettings) {
  const { worker, run } = await createMailroomWorker({
    databaseUrl,
    temporal: target,
    workflowBundle: await workflowBundle(),
    ...(campaign ? { campaign } : {}),
  });
  const running = run();
  const connection = await Connection.connect({ address: target.address });
  const client = new Client({ connection, namespace: target.namespace });
  return {
    client,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
