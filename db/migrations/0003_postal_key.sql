-- The normalised postal address, kept with the customer: mail suppression and one-per-household
-- compare it, and computing it at write time keeps audience snapshots fast.
alter table customers
  add column postal_key text generated always as (mailroom_postal_key(country, postal_code, address_line1, address_line2)) stored;
create index customers_postal_key on customers (postal_key) where postal_key is not null;
