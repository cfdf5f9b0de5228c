-- The report's tallies, kept up to date from what changed since the report last ran.
--
-- `mailroom report` used to compute every member's outcome from all responses, orders and
-- deliveries each time it was asked (0012's mailroom_member_outcomes over the whole campaign). It
-- now keeps, per campaign it has reported on:
--
--   report_member_rows   one row per member: the same outcome as mailroom_member_outcomes, the
--                        member's dimensions, the day of its first response since each wave's date,
--                        and the waves that put a piece in its hands;
--   report_tallies       those rows added up: per group and dimension value, per credited wave,
--                        per day, per wave and day, and pieces per band and wave;
--   report_caches        what the rows were computed for (the campaign's settings and windows) and
--                        as of which snapshot.
--
-- Every write that can change an outcome records the customer in report_changes (statement
-- triggers below), stamped with the writing transaction. The next report recomputes the rows of
-- those customers only: it subtracts their old rows from the tallies and adds the new ones. A
-- change is "new" for a campaign when its transaction was not visible in the snapshot of that
-- campaign's last refresh, so a write that commits while a report runs is picked up next time,
-- never lost. Different settings or windows (a wave sent, attribution changed) rebuild the
-- campaign's rows whole. The views of 0008 and 0012 still compute everything from scratch: a test
-- holds the two to the same numbers.
--
-- The three tables the report keeps are unlogged: they are derived, and after a crash PostgreSQL
-- empties them all, so the next report finds no cache and computes the campaign whole.

create table report_changes (
  xid          xid8 not null default pg_current_xact_id(),
  customer_id  bigint not null
);

create unlogged table report_caches (
  campaign_id  bigint primary key references campaigns (id) on delete cascade,
  -- The settings and windows the rows were computed for: another key rebuilds them.
  key          jsonb not null,
  -- Changes whose transaction is visible in this snapshot are in the rows.
  snapshot     pg_snapshot not null,
  refreshed_at timestamptz not null default now()
);

-- No foreign key to campaigns: its check, row by row, was a third of the time of writing a
-- million rows. A deleted campaign's rows go with its report_caches row (trigger below).
create unlogged table report_member_rows (
  campaign_id          bigint not null,
  customer_id          bigint not null,
  "group"              text not null,
  band                 text,
  variant              text,
  segment              text,
  tier                 text,
  province             text,
  cohort               integer not null,
  first_response_at    timestamptz,
  response_day         integer,
  traceable_responses  integer not null,
  orders               integer not null,
  revenue              numeric not null,
  after_window         integer not null,
  credited_wave        text,
  -- Day of the first response since each window's date (windows in the key's order), where it
  -- counts for that wave's curve: inside the window, and the wave reached the member or the
  -- member is held out.
  wave_days            integer[] not null,
  -- Waves with a piece sent or printed for the member.
  pieces               text[] not null
);
-- Not unique: a refresh deletes a member's row before it writes the new one, and a unique index
-- would check each new key against the deleted row still in it (a rebuild took twice as long).
create index report_member_rows_member on report_member_rows (campaign_id, customer_id);

-- `tally`: 'cell' (dimension, value: 'all', band, variant, segment, tier, province, cohort), 'wave'
-- (value: the credited wave), 'day' (value: days since the first wave's date), 'wave_day'
-- (dimension: the wave, value: days since its date), 'pieces' (dimension: the band, value: the wave).
create unlogged table report_tallies (
  campaign_id           bigint not null references campaigns (id) on delete cascade,
  tally                 text not null,
  "group"               text not null,
  dimension             text not null,
  value                 text not null,
  n                     bigint not null,
  responders            bigint not null,
  traceable_responders  bigint not null,
  orders                bigint not null,
  revenue               numeric not null,
  after_window          bigint not null,
  primary key (campaign_id, tally, "group", dimension, value)
);

create function mailroom_forget_member_rows() returns trigger language plpgsql as $$
begin
  delete from report_member_rows r using old_rows o where r.campaign_id = o.campaign_id;
  return null;
end $$;
create trigger report_caches_forget after delete on report_caches referencing old table as old_rows
  for each statement execute function mailroom_forget_member_rows();

-- The outcomes of 0012 for all members, or for those in `subset`. mailroom_member_outcomes (the
-- views') now reads this with `subset` null. Grouped by the member's key rather than the events',
-- so the planner knows how many members there are.
create function mailroom_member_outcomes_of(cid bigint, starts_at timestamptz, ends_at timestamptz, kinds text[],
                                            currency text, waves text[], subset bigint[])
returns table (
  customer_id bigint, "group" text, first_response_at timestamptz, response_day integer,
  first_traceable_at timestamptz, traceable_responses integer, orders integer, revenue numeric,
  after_window_responses integer, credited_wave text, reached_waves text[])
language sql stable parallel safe
as $$
  with ev as materialized (
    select m.customer_id,
           case when m.suppression_reason is not null then 'suppressed' when m.holdout then 'holdout' else 'treatment' end as "group",
           min(e.occurred_at) filter (where e.counted and not e.traceable and e.inside) as first_response_at,
           min(e.occurred_at) filter (where e.counted and e.traceable and e.inside) as first_traceable_at,
           (count(*) filter (where e.counted and e.traceable and e.inside))::int as traceable_responses,
           (count(*) filter (where e.amount is not null and e.inside))::int as orders,
           sum(e.amount) filter (where e.inside and e.currency = $5) as revenue,
           (count(*) filter (where e.counted and not e.inside))::int as after_window_responses
    from (
      select x.customer_id, x.occurred_at, x.traceable, x.amount, coalesce(x.currency, $5) as currency,
             x.occurred_at < $3 as inside, ($4 is null or x.kind = any($4)) as counted
      from (
        select r.customer_id, r.kind, r.occurred_at, mailroom_traceable(r.kind, r.details) as traceable, r.campaign_id,
               case when r.kind = 'order' then r.value end as amount, r.details ->> 'currency' as currency
        from responses r
        where r.customer_id is not null and r.occurred_at >= $2 and ($7 is null or r.customer_id = any($7))
        union all
        select o.customer_id, 'order', o.occurred_at, false, null, o.amount, o.currency
        from orders o
        where o.occurred_at >= $2 and ($7 is null or o.customer_id = any($7))
      ) x
      where not x.traceable or x.campaign_id = $1
    ) e
    join campaign_members m on m.campaign_id = $1 and m.customer_id = e.customer_id and ($7 is null or m.customer_id = any($7))
    group by m.customer_id, m.suppression_reason is not null, m.holdout
  ), credit as (
    -- As in 0012: the wave of the latest touch at or before the first response (ties: the later
    -- wave of the file), and every wave that reached the responder.
    select ev.customer_id,
           (max((date_part('epoch', d.touched_at) * 1000000)::bigint * 1024 + array_position($6, d.wave))
              filter (where d.touched_at <= ev.first_response_at)) % 1024 as place,
           array_agg(d.wave) as reached
    from ev
    join campaign_touches d on d.campaign_id = $1 and d.customer_id = ev.customer_id and ($7 is null or d.customer_id = any($7))
    where ev.first_response_at is not null
    group by ev.customer_id
  )
  select ev.customer_id, ev."group", ev.first_response_at,
         floor((date_part('epoch', ev.first_response_at) - date_part('epoch', $2)) / 86400)::int,
         ev.first_traceable_at, ev.traceable_responses, ev.orders, ev.revenue, ev.after_window_responses,
         $6[c.place::int], c.reached
  from ev
  left join credit c on c.customer_id = ev.customer_id
$$;

create or replace function mailroom_member_outcomes(cid bigint, starts_at timestamptz, ends_at timestamptz, kinds text[], currency text, waves text[])
returns table (
  customer_id bigint, "group" text, first_response_at timestamptz, response_day integer,
  first_traceable_at timestamptz, traceable_responses integer, orders integer, revenue numeric,
  after_window_responses integer, credited_wave text, reached_waves text[])
language sql stable parallel safe
as $$
  select * from mailroom_member_outcomes_of($1, $2, $3, $4, $5, $6, null)
$$;

-- The member rows of a campaign (all members, or those in `subset`). `windows_*`: the campaign's
-- windows in the key's order.
create function mailroom_member_rows(cid bigint, starts_at timestamptz, ends_at timestamptz, kinds text[], currency text,
                                     waves text[], window_waves text[], window_starts timestamptz[],
                                     window_ends timestamptz[], subset bigint[])
returns setof report_member_rows
language sql stable parallel safe
as $$
  select m.campaign_id, m.customer_id,
         case when m.suppression_reason is not null then 'suppressed' when m.holdout then 'holdout' else 'treatment' end,
         m.band, m.variant, cu.attributes ->> 'segment', cu.attributes ->> 'tier', cu.province, m.cohort,
         o.first_response_at, o.response_day, coalesce(o.traceable_responses, 0), coalesce(o.orders, 0),
         coalesce(o.revenue, 0), coalesce(o.after_window_responses, 0), o.credited_wave,
         case when o.first_response_at is null then '{}' else array(
           select case when o.first_response_at >= w.s and o.first_response_at < w.e
                        and (m.holdout or w.wave = any(o.reached_waves))
                       then floor((date_part('epoch', o.first_response_at) - date_part('epoch', w.s)) / 86400)::int end
           from unnest($7, $8, $9) with ordinality as w (wave, s, e, i)
           where m.suppression_reason is null
           order by w.i) end,
         coalesce(p.waves, '{}')
  from campaign_members m
  join customers cu on cu.id = m.customer_id
  left join mailroom_member_outcomes_of($1, $2, $3, $4, $5, $6, $10) o on o.customer_id = m.customer_id
  left join (
    select d.customer_id, array_agg(d.wave order by d.wave) as waves
    from deliveries d
    where d.campaign_id = $1 and d.status in ('sent', 'printed') and ($10 is null or d.customer_id = any($10))
    group by d.customer_id
  ) p on p.customer_id = m.customer_id
  where m.campaign_id = $1 and ($10 is null or m.customer_id = any($10))
$$;

-- Recording changes. A statement trigger sees the rows it changed as transition tables.
create function mailroom_note_customers() returns trigger language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    insert into report_changes (customer_id) select distinct customer_id from old_rows where customer_id is not null;
  end if;
  if tg_op in ('UPDATE', 'INSERT') then
    insert into report_changes (customer_id) select distinct customer_id from new_rows where customer_id is not null;
  end if;
  return null;
end $$;

-- A member's row changes with its band, variant, group or cohort, not with its response code
-- (written for every member when letters are rendered).
create function mailroom_note_members() returns trigger language plpgsql as $$
begin
  insert into report_changes (customer_id)
  select distinct n.customer_id from new_rows n join old_rows o on o.campaign_id = n.campaign_id and o.customer_id = n.customer_id
  where (n.band, n.variant, n.holdout, n.suppression_reason, n.cohort) is distinct from (o.band, o.variant, o.holdout, o.suppression_reason, o.cohort);
  return null;
end $$;

-- A customer's row changes with the dimensions the report breaks down by.
create function mailroom_note_customer_dimensions() returns trigger language plpgsql as $$
begin
  insert into report_changes (customer_id)
  select n.id from new_rows n join old_rows o on o.id = n.id
  where (n.province, n.attributes ->> 'segment', n.attributes ->> 'tier')
        is distinct from (o.province, o.attributes ->> 'segment', o.attributes ->> 'tier');
  return null;
end $$;

-- A call outcome is written with its task's update; noted here as well, by the task's customer.
create function mailroom_note_call_outcomes() returns trigger language plpgsql as $$
begin
  insert into report_changes (customer_id)
  select distinct t.customer_id from new_rows n join call_tasks t on t.id = n.task_id;
  return null;
end $$;

-- A table emptied wholesale: every campaign's rows are rebuilt.
create function mailroom_forget_report_rows() returns trigger language plpgsql as $$
begin
  delete from report_caches;
  truncate report_member_rows;
  return null;
end $$;

-- A trigger with transition tables takes one event, so each table gets one per event.
do $$
declare t text;
begin
  foreach t in array array['responses', 'orders', 'deliveries', 'call_tasks', 'campaign_members'] loop
    execute format('create trigger %I after insert on %I referencing new table as new_rows
                    for each statement execute function mailroom_note_customers()', t || '_report_insert', t);
    execute format('create trigger %I after delete on %I referencing old table as old_rows
                    for each statement execute function mailroom_note_customers()', t || '_report_delete', t);
    execute format('create trigger %I after truncate on %I
                    for each statement execute function mailroom_forget_report_rows()', t || '_report_truncate', t);
  end loop;
  foreach t in array array['responses', 'orders', 'deliveries', 'call_tasks'] loop
    execute format('create trigger %I after update on %I referencing old table as old_rows new table as new_rows
                    for each statement execute function mailroom_note_customers()', t || '_report_update', t);
  end loop;
end $$ language plpgsql;

create trigger campaign_members_report_update after update on campaign_members
  referencing old table as old_rows new table as new_rows
  for each statement execute function mailroom_note_members();
create trigger customers_report_update after update on customers
  referencing old table as old_rows new table as new_rows
  for each statement execute function mailroom_note_customer_dimensions();
create trigger customers_report_truncate after truncate on customers
  for each statement execute function mailroom_forget_report_rows();
-- Campaigns emptied wholesale take report_caches with them (its foreign key), and the rows too.
create trigger report_caches_truncate after truncate on report_caches
  for each statement execute function mailroom_forget_report_rows();
create trigger call_outcomes_report_insert after insert on call_outcomes
  referencing new table as new_rows
  for each statement execute function mailroom_note_call_outcomes();

-- A member's deliveries whatever their status (the pieces of the member rows), where 0012's index
-- had the sent ones only.
create index deliveries_campaign_customer on deliveries (campaign_id, customer_id) include (wave, status, sent_at);
drop index deliveries_campaign_member;

-- Deliveries counted by campaign, wave, channel and status as they are written, so that neither
-- the report nor the windows view counts a million rows each time. `recovered`: recovery is set;
-- `dated`: sent_at is set. Rows go to zero rather than away.
create table delivery_counts (
  campaign_id  bigint not null references campaigns (id) on delete cascade,
  wave         text not null,
  channel      text not null,
  status       text not null,
  recovered    boolean not null,
  dated        boolean not null,
  n            bigint not null,
  primary key (campaign_id, wave, channel, status, recovered, dated)
);
insert into delivery_counts
select campaign_id, wave, channel, status, recovery is not null, sent_at is not null, count(*)
from deliveries group by 1, 2, 3, 4, 5, 6;

-- Counters are updated in key order, so two statements updating the same ones cannot deadlock.
create function mailroom_count_deliveries() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into delivery_counts as c
    select campaign_id, wave, channel, status, recovery is not null, sent_at is not null, count(*)
    from new_rows group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6
    on conflict (campaign_id, wave, channel, status, recovered, dated) do update set n = c.n + excluded.n;
  elsif tg_op = 'DELETE' then
    insert into delivery_counts as c
    select campaign_id, wave, channel, status, recovery is not null, sent_at is not null, -count(*)
    from old_rows group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6
    on conflict (campaign_id, wave, channel, status, recovered, dated) do update set n = c.n + excluded.n;
  else
    insert into delivery_counts as c
    select campaign_id, wave, channel, status, recovered, dated, sum(n) from (
      select campaign_id, wave, channel, status, recovery is not null as recovered, sent_at is not null as dated, 1 as n from new_rows
      union all
      select campaign_id, wave, channel, status, recovery is not null, sent_at is not null, -1 from old_rows
    ) x
    group by 1, 2, 3, 4, 5, 6 having sum(n) <> 0 order by 1, 2, 3, 4, 5, 6
    on conflict (campaign_id, wave, channel, status, recovered, dated) do update set n = c.n + excluded.n;
  end if;
  return null;
end $$;
create trigger deliveries_count_insert after insert on deliveries referencing new table as new_rows
  for each statement execute function mailroom_count_deliveries();
create trigger deliveries_count_update after update on deliveries referencing old table as old_rows new table as new_rows
  for each statement execute function mailroom_count_deliveries();
create trigger deliveries_count_delete after delete on deliveries referencing old table as old_rows
  for each statement execute function mailroom_count_deliveries();
create function mailroom_forget_delivery_counts() returns trigger language plpgsql as $$
begin
  delete from delivery_counts;
  return null;
end $$;
create trigger deliveries_count_truncate after truncate on deliveries
  for each statement execute function mailroom_forget_delivery_counts();

-- A wave's first sent piece is found in this index without reading the others (it replaces
-- deliveries_status, whose columns it starts with).
create index deliveries_wave_status on deliveries (campaign_id, wave, status, channel, sent_at);
drop index deliveries_status;

-- As in 0012, from the counts: a sent wave's date is its first sent piece, looked up in the index.
create or replace view campaign_attribution_windows as
select k.campaign_id, k.wave, k.channel, k.sent, f.starts_at,
       f.starts_at + coalesce(s.attribution_window,
         case when k.channel = 'mail' then interval '90 days' else interval '30 days' end) as ends_at
from (
  select campaign_id, wave, channel, sum(n)::int as sent
  from delivery_counts where status = 'sent' and dated group by 1, 2, 3 having sum(n) > 0
) k
cross join lateral (
  select min(d.sent_at) as starts_at from deliveries d
  where d.campaign_id = k.campaign_id and d.wave = k.wave and d.status = 'sent' and d.channel = k.channel
) f
left join campaign_report_settings s on s.campaign_id = k.campaign_id
union all
select t.campaign_id, t.wave, 'call', (count(*) filter (where t.status = 'settled' and t.outcome in ('appointment', 'declined', 'call_back')))::int,
       min(t.created_at), min(t.created_at) + coalesce(s.attribution_window, interval '30 days')
from call_tasks t
left join campaign_report_settings s on s.campaign_id = t.campaign_id
group by t.campaign_id, t.wave, s.attribution_window
having count(*) filter (where t.status = 'settled' and t.outcome in ('appointment', 'declined', 'call_back')) > 0;
