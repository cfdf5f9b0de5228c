-- The human channel: the contact log (every contact with a customer, by anyone), the call tasks of
-- call waves with the outcomes recorded against them, and the 'appointment' response a call or a
-- booking yields.

-- One row per contact. natural_key says what counts as the same contact, so a retried write adds
-- nothing. 'handover' rows record a change of account manager (mailroom customers reassign).
create table contact_log (
  id           bigint generated always as identity primary key,
  customer_id  bigint not null references customers (id) on delete cascade,
  campaign_id  bigint references campaigns (id) on delete set null,
  occurred_at  timestamptz not null,
  channel      text not null check (channel in ('mail', 'email', 'sms', 'call', 'visit', 'handover')),
  actor        text not null check (actor <> ''),
  purpose      text not null,
  outcome      text,
  next_step    text,
  note         text,
  natural_key  text not null,
  created_at   timestamptz not null default now(),
  constraint contact_log_natural_key unique (natural_key)
);
create index contact_log_customer on contact_log (customer_id, occurred_at);

-- A customer's account manager is the known attribute account_manager (import header 客户经理);
-- call waves assign by it and reassignment looks customers up by it.
create index customers_account_manager on customers ((attributes ->> 'account_manager'))
  where attributes ? 'account_manager';

-- One task per (campaign, wave, customer). 'open' tasks are waiting for a call; 'overdue' ones
-- are open past due_at; 'settled' ones reached the customer; 'failed' ones ran out of attempts or
-- had a wrong number.
create table call_tasks (
  id                bigint generated always as identity primary key,
  campaign_id       bigint not null references campaigns (id) on delete cascade,
  wave              text not null,
  customer_id       bigint not null references customers (id),
  manager           text not null check (manager <> ''),
  status            text not null default 'open' check (status in ('open', 'settled', 'failed', 'overdue')),
  attempts_allowed  integer not null check (attempts_allowed >= 1),
  attempts          integer not null default 0,
  outcome           text check (outcome in ('appointment', 'declined', 'call_back', 'no_answer', 'wrong_number')),
  appointment_at    timestamptz,
  call_back_on      date,
  note              text,
  due_at            timestamptz,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  settled_at        timestamptz,
  constraint call_tasks_key unique (campaign_id, wave, customer_id)
);
create index call_tasks_manager on call_tasks (campaign_id, manager, status);
create index call_tasks_customer on call_tasks (customer_id);

-- Every outcome applied to a task, once per outcome key (a page form, a spreadsheet row, an API
-- call): a replayed outcome finds its key taken and changes nothing.
create table call_outcomes (
  id           bigint generated always as identity primary key,
  task_id      bigint not null references call_tasks (id) on delete cascade,
  outcome_key  text not null,
  outcome      text not null check (outcome in ('appointment', 'declined', 'call_back', 'no_answer', 'wrong_number')),
  attempt      integer not null,
  recorded_by  text not null,
  source       text not null,
  occurred_at  timestamptz not null,
  created_at   timestamptz not null default now(),
  constraint call_outcomes_key unique (outcome_key)
);
create index call_outcomes_task on call_outcomes (task_id);

-- A booked visit (from a call, or later from the landing page) is a response of its own.
alter table responses drop constraint responses_kind_check;
alter table responses add constraint responses_kind_check check (kind in (
  'open', 'click', 'purl_visit', 'qr_scan', 'unsubscribe', 'sms_reply', 'sms_stop',
  'delivered', 'bounce', 'coupon_redemption', 'branch_visit', 'call_outcome', 'order', 'appointment'));
-- At most one branch visit per customer per campaign is enforced by its dedupe key
-- (visit:<campaign>:<customer>); this index finds a campaign's visits by band for gift stock.
create index responses_branch_visits on responses (campaign_id) where kind = 'branch_visit';

-- Gifts handed out at branch visits, per campaign and offer (the band's offer key). The row is
-- created with the stock the campaign file gives; a visit takes one with a conditional update, so
-- concurrent visits never hand out more than the stock.
create table offer_stock (
  campaign_id  bigint not null references campaigns (id) on delete cascade,
  offer        text not null,
  stock        integer not null check (stock >= 0),
  used         integer not null default 0 check (used >= 0 and used <= stock),
  unit_cost    numeric(14, 2),
  primary key (campaign_id, offer)
);
