-- Audience snapshots: helper functions the segment SQL uses, and indexes for its lookups.

-- A stable number in [0, 1) from text: the same campaign and customer always land in the same
-- holdout/variant bucket, on every run and every PostgreSQL version (md5, unlike hashtext, is fixed).
create function mailroom_hash_unit(input text) returns double precision
language sql immutable strict parallel safe
as $$ select ('x' || substr(md5(input), 1, 12))::bit(48)::bigint / 281474976710656.0 $$;

-- Whether `day` is the birthday of someone born on `birthday`; 29 February is celebrated on
-- 28 February in years without one.
create function mailroom_birthday_on(birthday date, day date) returns boolean
language sql immutable strict parallel safe
as $$
  select extract(month from birthday) = extract(month from day)
     and (extract(day from birthday) = extract(day from day)
          or (extract(month from birthday) = 2 and extract(day from birthday) = 29
              and extract(day from day) = 28
              and extract(day from (make_date(extract(year from day)::int, 3, 1) - 1)) = 28))
$$;

-- One household per normalised postal address: case, spaces and punctuation do not matter.
create function mailroom_postal_key(country text, postal_code text, line1 text, line2 text) returns text
language sql immutable parallel safe
as $$
  select case when line1 is null then null else
    lower(regexp_replace(concat_ws('|', country, postal_code, line1, line2), '[[:space:][:punct:]，。、·（）()#-]+', '', 'g'))
  end
$$;

-- A date from an attribute's text, or null when it is not a real date.
create function mailroom_try_date(input text) returns date
language plpgsql immutable strict parallel safe
as $$
begin
  if input !~ '^\d{4}-\d{2}-\d{2}$' then return null; end if;
  return input::date;
exception when others then
  return null;
end $$;

alter table campaigns add column snapshot_at timestamptz;
alter table campaigns add column audience_channel text check (audience_channel in ('mail', 'email', 'sms'));

create index suppressions_customer on suppressions (customer_id) where customer_id is not null;
create index deliveries_customer_sent on deliveries (customer_id, sent_at) where status = 'sent';
create index responses_customer on responses (customer_id, campaign_id);
