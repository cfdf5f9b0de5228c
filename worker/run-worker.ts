// The worker: registers the workflows and the activities on one task queue and runs until
// SIGINT/SIGTERM, then finishes in-flight tasks and exits.
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import type { CampaignSettings } from '../activities/campaign.ts';
import {
  channelFactoriesFrom,
  type ChannelFactories,
  type ChannelSettings,
} from '../pipeline/send/channel-factories.ts';
import { connectDatabase } from '../db/connection.ts';
import { workerConnectionOptions, type TemporalTarget } from '../config/temporal.ts';
import { logger } from '../config/logger.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** A worker's campaign settings: what it renders with, and the providers it may send through. */
export type WorkerSettings = CampaignSettings & ChannelSettings;

export interface WorkerSetup {
  databaseUrl: string;
  temporal: TemporalTarget;
  campaign?: WorkerSettings;
  /** Channels of one's own (tests); by default the worker builds them from `campaign`'s SMTP and Twilio settings. */
  channels?: ChannelFactories;
  /** A prebuilt bundle (tests bundle once per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createMailroomWorker(setup: WorkerSetup) {
  const sql = connectDatabase(setup.databaseUrl, { application: 'mailroom-worker' });
  const connection = await NativeConnection.connect(workerConnectionOptions(setup.temporal));
  const worker = await Worker.create({
    connection,
    namespace: setup.temporal.namespace,
    taskQueue: setup.temporal.taskQueue,
    // Heartbeats reach the server at least every 2 s, so a cancelled batch hears of it soon.
    maxHeartbeatThrottleInterval: '2 seconds',
    activities: createActivities({
      sql,
      ...(setup.campaign ? { campaign: setup.campaign } : {}),
      channels: setup.channels ?? (setup.campaign ? channelFactoriesFrom(setup.campaign) : {}),
    }),
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
  return {
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await sql.end({ timeout: 5 });
        await connection.close();
      }
    },
  };
}

export async function runWorker(setup: WorkerSetup): Promise<void> {
  const log = logger();
  const { run } = await createMailroomWorker(setup);
  log.info(
    { taskQueue: setup.temporal.taskQueue, namespace: setup.temporal.namespace, address: setup.temporal.address },
    'worker started',
  );
  await run();
  log.info('worker stopped');
}
