-- Visits booked by customers on their landing page (the letter's QR code and PURL), in the slots
-- the campaign file's `booking:` offers. One booking per customer per campaign. A slot's row
-- counts its bookings: a booking takes a place by a conditional update of that row
-- (booked < the file's per_slot), so concurrent bookings never overfill a slot.
create table booking_slots (
  campaign_id  bigint not null references campaigns (id) on delete cascade,
  slot_at      timestamptz not null,
  booked       integer not null default 0 check (booked >= 0),
  primary key (campaign_id, slot_at)
);

create table bookings (
  id           bigint generated always as identity primary key,
  campaign_id  bigint not null references campaigns (id) on delete cascade,
  customer_id  bigint not null references customers (id) on delete cascade,
  slot_at      timestamptz not null,
  source       text not null,
  created_at   timestamptz not null default now(),
  constraint bookings_once unique (campaign_id, customer_id),
  foreign key (campaign_id, slot_at) references booking_slots (campaign_id, slot_at)
);
create index bookings_slot on bookings (campaign_id, slot_at);
