// Every activity the workflows call, built from their dependencies so tests can pass real or
// fake ones (channels included). Each converts a mistake the user must fix into a failure that is
// not retried (failures.ts).
import type { Sql } from '../db/connection.ts';
import { createHealthActivities } from './health.ts';
import { createCampaignActivities, type CampaignSettings } from './campaign.ts';
import { createRecurringActivities } from './recurring.ts';
import { failingLoudly } from './failures.ts';
import type { ChannelFactories } from '../pipeline/send/channel-factories.ts';

export interface ActivityDeps {
  sql: Sql;
  campaign?: Partial<CampaignSettings>;
  /** The channels this worker sends through, by name; a wave whose channel is missing here is not sent by this worker. */
  channels?: ChannelFactories;
}

export function createActivities(deps: ActivityDeps) {
  return failingLoudly({
    ...createHealthActivities(deps),
    ...createRecurringActivities(deps),
    ...createCampaignActivities({
      sql: deps.sql,
      channels: deps.channels ?? {},
      settings: { secret: '', trackingUrl: 'http://127.0.0.1:8088', ...deps.campaign },
    }),
  });
}

export type Activities = ReturnType<typeof createActivities>;
