-- A campaign's audience may grow: when its goal is below pace at the fallback's check, the next
-- ranks join as a new cohort (cohort 1 is the launch snapshot). campaign_cohorts holds one row per
-- added cohort, written in the same transaction as its members, so an extension retried after a
-- crash finds its row and adds nobody twice.
alter table campaign_members add column cohort integer not null default 1 check (cohort >= 1);
create index campaign_members_cohort on campaign_members (campaign_id, cohort) where cohort > 1;

create table campaign_cohorts (
  campaign_id  bigint not null references campaigns (id) on delete cascade,
  cohort       integer not null check (cohort >= 2),
  -- The audience's top n once this cohort is in (e.g. 800 after ranks 501–800 were added).
  extend_to    integer not null check (extend_to > 0),
  -- What the check saw: responses of the goal's kind and the pace they were measured against.
  responses    integer,
  pace         numeric,
  created_at   timestamptz not null default now(),
  primary key (campaign_id, cohort)
);
