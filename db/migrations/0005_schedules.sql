-- Recurring campaigns. Temporal keeps a schedule's timing and starts its runs; the campaign file
-- as it was checked at `schedule create` lives here, so the schedule's payloads carry only its name.
create table campaign_schedules (
  name        text primary key check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  file        text not null,
  text        text not null,
  -- As the operator gave it ("every 1d", "cron 0 9 * * *"), for listings.
  timing      text not null,
  time_zone   text not null,
  -- How finely a run's name carries its time: one run a day needs only the date.
  run_suffix  text not null check (run_suffix in ('date', 'minute', 'second')),
  created_at  timestamptz not null default now()
);

-- Every campaign a schedule started. No reference to campaign_schedules: the history of runs
-- outlives a deleted schedule, like the campaigns themselves.
create table schedule_runs (
  campaign_id   bigint primary key references campaigns (id) on delete cascade,
  schedule      text not null,
  scheduled_at  timestamptz not null,
  -- The run id of the workflow that registered it: its retried registration finds its own run.
  starter       text not null,
  created_at    timestamptz not null default now()
);
create index schedule_runs_schedule on schedule_runs (schedule, scheduled_at desc);
