// Every activity the workflows call, built from their dependencies so tests can pass real or
// fake ones.
import type { Sql } from '../db/connection.ts';
import { createHealthActivities } from './health.ts';

export interface ActivityDeps {
  sql: Sql;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHealthActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
