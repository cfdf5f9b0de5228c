-- The customer database: the system of record every campaign reads and feeds back into.

create table imports (
  id            bigint generated always as identity primary key,
  kind          text not null check (kind in ('customers', 'orders', 'seed')),
  source        text not null,
  encoding      text,
  started_at    timestamptz not null default now(),
  finished_at   timestamptz,
  read          integer not null default 0,
  inserted      integer not null default 0,
  updated       integer not null default 0,
  rejected      integer not null default 0,
  rejects_path  text
);

create table customers (
  id              bigint generated always as identity primary key,
  external_id     text not null,
  full_name       text not null,
  family_name     text,
  given_name      text,
  gender          text not null default 'unknown' check (gender in ('female', 'male', 'other', 'unknown')),
  salutation      text,
  locale          text not null default 'zh-CN',
  email           text,
  phone           text check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  address_line1   text,
  address_line2   text,
  district        text,
  city            text,
  province        text,
  postal_code     text,
  country         text not null default 'CN' check (country ~ '^[A-Z]{2}$'),
  birthday        date,
  timezone        text not null default 'Asia/Shanghai',
  attributes      jsonb not null default '{}' check (jsonb_typeof(attributes) = 'object'),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  last_import_id  bigint references imports (id) on delete set null,
  constraint customers_external_id_key unique (external_id)
);
create index customers_postal_code on customers (country, postal_code);
create index customers_email on customers (lower(email)) where email is not null;
create index customers_phone on customers (phone) where phone is not null;

-- One row per customer and channel: the latest recorded decision.
create table consents (
  customer_id  bigint not null references customers (id) on delete cascade,
  channel      text not null check (channel in ('mail', 'email', 'sms')),
  status       text not null check (status in ('granted', 'denied')),
  source       text not null,
  recorded_at  timestamptz not null default now(),
  primary key (customer_id, channel)
);

-- Who must not be contacted: by customer, by address (normalised email, E.164 phone or postal
-- address), or both. channel 'all' blocks every channel.
create table suppressions (
  id           bigint generated always as identity primary key,
  channel      text not null check (channel in ('mail', 'email', 'sms', 'all')),
  customer_id  bigint references customers (id) on delete cascade,
  address      text,
  reason       text not null check (reason in (
                 'unsubscribed', 'hard_bounce', 'complaint', 'sms_stop', 'invalid_address',
                 'deceased', 'moved', 'do_not_contact', 'manual')),
  source       text not null,
  created_at   timestamptz not null default now(),
  check (customer_id is not null or address is not null),
  constraint suppressions_key unique nulls not distinct (channel, customer_id, address)
);
create index suppressions_address on suppressions (address) where address is not null;

create table orders (
  id              bigint generated always as identity primary key,
  customer_id     bigint not null references customers (id) on delete cascade,
  order_ref       text not null,
  amount          numeric(14, 2) not null,
  currency        text not null default 'CNY' check (currency ~ '^[A-Z]{3}$'),
  occurred_at     timestamptz not null,
  channel         text,
  created_at      timestamptz not null default now(),
  last_import_id  bigint references imports (id) on delete set null,
  constraint orders_order_ref_key unique (order_ref)
);
create index orders_customer_time on orders (customer_id, occurred_at desc);

-- Campaign tables. The campaign capabilities fill them; their keys are fixed here.
create table campaigns (
  id           bigint generated always as identity primary key,
  slug         text not null check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name         text not null,
  spec         jsonb not null,
  status       text not null default 'draft',
  workflow_id  text not null,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint campaigns_slug_key unique (slug),
  constraint campaigns_workflow_id_key unique (workflow_id)
);

create table campaign_members (
  campaign_id         bigint not null references campaigns (id) on delete cascade,
  customer_id         bigint not null references customers (id),
  rank                integer,
  band                text,
  variant             text,
  holdout             boolean not null default false,
  suppression_reason  text,
  response_code       text,
  primary key (campaign_id, customer_id),
  constraint campaign_members_response_code_key unique (response_code)
);

-- The sending ledger: a row is written 'pending' before the provider call and 'sent' or
-- 'failed' after it, so a retried batch never sends twice.
create table deliveries (
  id           bigint generated always as identity primary key,
  campaign_id  bigint not null references campaigns (id) on delete cascade,
  wave         text not null,
  customer_id  bigint not null references customers (id),
  channel      text not null check (channel in ('mail', 'email', 'sms')),
  status       text not null default 'pending' check (status in ('pending', 'sent', 'failed', 'uncertain')),
  provider_id  text,
  error        text,
  attempts     integer not null default 0,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  sent_at      timestamptz,
  constraint deliveries_key unique (campaign_id, wave, customer_id, channel)
);
create index deliveries_status on deliveries (campaign_id, wave, status);

create table responses (
  id           bigint generated always as identity primary key,
  campaign_id  bigint references campaigns (id) on delete cascade,
  customer_id  bigint references customers (id),
  delivery_id  bigint references deliveries (id),
  kind         text not null check (kind in (
                 'open', 'click', 'purl_visit', 'qr_scan', 'unsubscribe', 'sms_reply', 'sms_stop',
                 'delivered', 'bounce', 'coupon_redemption', 'branch_visit', 'call_outcome', 'order')),
  source       text not null,
  dedupe_key   text not null,
  occurred_at  timestamptz not null,
  value        numeric(14, 2),
  details      jsonb not null default '{}',
  created_at   timestamptz not null default now(),
  constraint responses_dedupe_key unique (dedupe_key)
);
create index responses_campaign on responses (campaign_id, customer_id, kind);
