// Every activity the workflows call, built from their dependencies so tests can pass real or
// fake ones.
import type { Sql } from '../db/connection.ts';
import { createHealthActivities } from './health.ts';
import { createCampaignActivities, type CampaignDeps } from './campaign.ts';
import { createRecurringActivities } from './recurring.ts';

export interface ActivityDeps {
  sql: Sql;
  campaign?: Omit<CampaignDeps, 'sql'>;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHealthActivities(deps),
    ...createRecurringActivities(deps),
    ...createCampaignActivities({ secret: '', trackingUrl: 'http://127.0.0.1:8088', from: 'Mailroom <marketing@example.com>', ...deps.campaign, sql: deps.sql }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
