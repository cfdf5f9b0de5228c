-- Orchestration: how a send interrupted by a crash was settled, mail pieces that are printed but
-- not yet confirmed as posted, the feedback a closed campaign leaves on each customer, and a
-- campaign's final summary.
alter table deliveries drop constraint deliveries_status_check;
alter table deliveries add constraint deliveries_status_check
  check (status in ('pending', 'printed', 'sent', 'failed', 'uncertain'));
-- 'found': the provider had it (looked up); 'resent': sent again under the same idempotency key.
alter table deliveries add column recovery text check (recovery in ('found', 'resent'));

alter table customers add column last_contacted_at timestamptz;
alter table customers add column contact_count integer not null default 0;
alter table customers add column response_count integer not null default 0;
alter table customers add column last_responded_at timestamptz;

alter table campaigns add column completed_at timestamptz;
-- Set in the same transaction as the feedback, so a retried feedback step counts nothing twice.
alter table campaigns add column feedback_at timestamptz;
alter table campaigns add column summary jsonb;
