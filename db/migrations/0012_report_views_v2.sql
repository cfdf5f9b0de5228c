-- The campaign report as SQL, second version. Same attribution rules as 0008 (each sent wave's
-- window from its date; a span from the first wave's date to the end of the last window; holdout
-- and treated alike; traceable responses only for their own campaign and never in the lift), now
-- computed set-based by functions that `mailroom report` and the views share, so both show the
-- same numbers:
--
--   mailroom_member_outcomes(...)  one row per member with a response or an order from the span's
--                                  start on, in one grouped pass over responses and orders joined
--                                  with the campaign's members, and one hash join with the campaign's
--                                  deliveries for the responders: first response, traceable
--                                  responses, attributed orders and revenue, responses after the
--                                  window, the wave credited by last touch, the waves that reached
--                                  the responder
--   mailroom_gift_costs(id)        gifts handed out at branch visits, per band and offer, and their cost
--
-- New views: campaign_gift_costs, campaign_wave_response_curve; member_outcomes gains segment, tier,
-- province, reached_waves and cohort; campaign_breakdowns gains segment, cohort and channel. campaign_results and
-- campaign_response_curve (0008) read member_outcomes and stay as they are.
--
-- Imported responses (`mailroom import responses`) are rows of `responses`: those matched by
-- customer, phone or email count by window for every campaign, like orders; those matched by a
-- response code are traceable. An imported response of kind 'order' with a value counts in revenue.

-- The campaign file's wave names, in file order: last touch breaks a tie in favour of the later wave.
alter table campaign_report_settings add column waves text[];
-- The offers' unit costs (offer key → cost of one), for the cost of gifts handed out.
alter table campaign_report_settings add column gift_costs jsonb not null default '{}';

-- A campaign's sent deliveries by member: the last-touch join and the per-member counts.
create index deliveries_campaign_member on deliveries (campaign_id, customer_id) include (wave, sent_at) where status = 'sent';

-- Every touch of a member: a sent delivery, or a call that reached the customer (a call task
-- settled with appointment, declined or call_back; the touch is when that call took place).
create view campaign_touches as
select d.campaign_id, d.customer_id, d.wave, d.channel, d.sent_at as touched_at
from deliveries d
where d.status = 'sent' and d.sent_at is not null
union all
select t.campaign_id, t.customer_id, t.wave, 'call', o.occurred_at
from call_tasks t
join call_outcomes o on o.task_id = t.id and o.outcome in ('appointment', 'declined', 'call_back')
where t.status = 'settled';

-- One row per wave that has touched someone: its date and its attribution window. A sent wave as
-- in 0008; a call wave once a call has reached a customer, with `sent` the members reached and its
-- date the wave's start (its first task), so the holdout is anchored at the same date as the
-- treated; the window is attribution.window, else 30 days as for email and SMS.
create or replace view campaign_attribution_windows as
select d.campaign_id, d.wave, d.channel, count(*)::int as sent, min(d.sent_at) as starts_at,
       min(d.sent_at) + coalesce(s.attribution_window,
         case when d.channel = 'mail' then interval '90 days' else interval '30 days' end) as ends_at
from deliveries d
left join campaign_report_settings s on s.campaign_id = d.campaign_id
where d.status = 'sent' and d.sent_at is not null
group by d.campaign_id, d.wave, d.channel, s.attribution_window
union all
select t.campaign_id, t.wave, 'call', (count(*) filter (where t.status = 'settled' and t.outcome in ('appointment', 'declined', 'call_back')))::int,
       min(t.created_at), min(t.created_at) + coalesce(s.attribution_window, interval '30 days')
from call_tasks t
left join campaign_report_settings s on s.campaign_id = t.campaign_id
group by t.campaign_id, t.wave, s.attribution_window
having count(*) filter (where t.status = 'settled' and t.outcome in ('appointment', 'declined', 'call_back')) > 0;


-- `starts_at`/`ends_at`: the campaign's span (campaign_attribution_spans); `kinds`: the response
-- kinds that count (null: all); `currency`: the campaign's; `waves`: its wave names in file order.
create function mailroom_member_outcomes(cid bigint, starts_at timestamptz, ends_at timestamptz, kinds text[], currency text, waves text[])
returns table (
  customer_id bigint, "group" text, first_response_at timestamptz, response_day integer,
  first_traceable_at timestamptz, traceable_responses integer, orders integer, revenue numeric,
  after_window_responses integer, credited_wave text, reached_waves text[])
language sql stable parallel safe
as $$
  with ev as materialized (
    select e.customer_id,
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
        where r.customer_id is not null and r.occurred_at >= $2
        union all
        select o.customer_id, 'order', o.occurred_at, false, null, o.amount, o.currency
        from orders o
        where o.occurred_at >= $2
      ) x
      where not x.traceable or x.campaign_id = $1
    ) e
    join campaign_members m on m.campaign_id = $1 and m.customer_id = e.customer_id
    group by e.customer_id, m.suppression_reason is not null, m.holdout
  ), credit as (
    -- The wave of the latest touch (a sent delivery or a call that reached the member) at or
    -- before the first response (ties: the later wave of the file), as one bigint per touch
    -- (microseconds × 1024 + the wave's place), so a plain max() finds it; and every wave that
    -- reached the responder.
    select ev.customer_id,
           (max((date_part('epoch', d.touched_at) * 1000000)::bigint * 1024 + array_position($6, d.wave))
              filter (where d.touched_at <= ev.first_response_at)) % 1024 as place,
           array_agg(d.wave) as reached
    from ev
    join campaign_touches d on d.campaign_id = $1 and d.customer_id = ev.customer_id
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

-- One row per member of a campaign (suppressed members included, as group 'suppressed'): its
-- dimensions, its contacts, and its outcomes from mailroom_member_outcomes. Same columns as in
-- 0008, in the same order, and then the customer's segment, tier and province, the waves that
-- reached a responder (sent deliveries and calls that reached them) and the member's cohort.
-- first_response_kind is looked up only when it is asked for.
create or replace view member_outcomes as
select c.id as campaign_id, c.slug as campaign, x.*
from campaigns c
cross join lateral (
  select min(w.starts_at) as starts_at, max(w.ends_at) as ends_at from campaign_attribution_windows w where w.campaign_id = c.id
) sp
left join campaign_report_settings st on st.campaign_id = c.id
cross join lateral (
  select m.customer_id, m.rank, m.band, m.variant,
         case when m.suppression_reason is not null then 'suppressed' when m.holdout then 'holdout' else 'treatment' end as "group",
         coalesce(t.contacts, 0) as contacts, t.first_contact_at,
         o.first_response_at,
         case when o.first_response_at is not null then coalesce(
           (select r.kind from responses r
            where r.customer_id = m.customer_id and r.occurred_at = o.first_response_at and not mailroom_traceable(r.kind, r.details)
              and (st.response_kinds is null or r.kind = any(st.response_kinds))
            order by r.id limit 1), 'order') end as first_response_kind,
         o.first_response_at is not null as responded,
         o.first_traceable_at, coalesce(o.traceable_responses, 0) as traceable_responses,
         coalesce(o.orders, 0) as attributed_orders, coalesce(o.revenue, 0) as attributed_revenue,
         coalesce(o.after_window_responses, 0) as after_window_responses,
         o.credited_wave, o.response_day,
         cu.attributes ->> 'segment' as segment, cu.attributes ->> 'tier' as tier, cu.province, o.reached_waves,
         -- campaign_members.cohort comes with 0013, after this file: read by name, 1 until then.
         coalesce((to_jsonb(m) ->> 'cohort')::int, 1) as cohort
  from campaign_members m
  join customers cu on cu.id = m.customer_id
  left join mailroom_member_outcomes(c.id, sp.starts_at, sp.ends_at, st.response_kinds, coalesce(st.currency, 'CNY'),
    coalesce(st.waves, array(select distinct w.wave from campaign_attribution_windows w where w.campaign_id = c.id order by 1))
  ) o on o.customer_id = m.customer_id
  left join (
    select d.customer_id, count(*)::int as contacts, min(d.sent_at) as first_contact_at
    from deliveries d where d.campaign_id = c.id and d.status = 'sent' group by d.customer_id
  ) t on t.customer_id = m.customer_id
  where m.campaign_id = c.id
) x;

drop function mailroom_last_touch(text[], timestamptz[], timestamptz);

-- Gifts handed out at branch visits: per campaign, band (of the member) and offer, how many and
-- at what cost (the offer's unit_cost from the campaign file, or from its stock row).
create function mailroom_gift_costs(cid bigint)
returns table (band text, offer text, gifts integer, unit_cost numeric, cost numeric)
language sql stable parallel safe
as $$
  select m.band, g.offer, count(*)::int, u.unit_cost, count(*) * u.unit_cost
  from (
    select r.customer_id, r.details -> 'gift' ->> 'offer' as offer
    from responses r
    where r.campaign_id = cid and r.kind = 'branch_visit' and r.details -> 'gift' ->> 'offer' is not null
  ) g
  join campaign_members m on m.campaign_id = cid and m.customer_id = g.customer_id
  left join lateral (
    select coalesce((select (st.gift_costs ->> g.offer)::numeric from campaign_report_settings st where st.campaign_id = cid),
                    (select os.unit_cost from offer_stock os where os.campaign_id = cid and os.offer = g.offer)) as unit_cost
  ) u on true
  group by m.band, g.offer, u.unit_cost
$$;

create view campaign_gift_costs as
select c.id as campaign_id, c.slug as campaign, g.band, g.offer, g.gifts, g.unit_cost, g.cost
from campaigns c cross join lateral mailroom_gift_costs(c.id) g;

-- The same counts by band, variant, segment (the customer's `segment` attribute), tier, province,
-- cohort (1 = the launch snapshot, 2 = ranks added by the fallback), and (treated only:
-- members reached, responders credited by last touch) wave and channel.
create or replace view campaign_breakdowns as
select o.campaign_id, o.campaign, dims.dimension, dims.value, o."group", count(*)::int as n,
       count(*) filter (where o.responded)::int as responders,
       (count(*) filter (where o.responded))::float8 / nullif(count(*), 0) as rate,
       sum(o.attributed_revenue) as attributed_revenue
from member_outcomes o
cross join lateral (values
  ('band', o.band), ('variant', o.variant), ('tier', o.tier), ('province', o.province), ('segment', o.segment),
  ('cohort', o.cohort::text)
) as dims (dimension, value)
where o."group" <> 'suppressed'
group by o.campaign_id, o.campaign, dims.dimension, dims.value, o."group"
union all
select w.campaign_id, c.slug, 'wave', w.wave, 'treatment', w.sent,
       coalesce(k.responders, 0), coalesce(k.responders, 0)::float8 / nullif(w.sent, 0), null
from campaign_attribution_windows w
join campaigns c on c.id = w.campaign_id
left join (
  select campaign_id, credited_wave, count(*)::int as responders
  from member_outcomes where "group" = 'treatment' and credited_wave is not null group by campaign_id, credited_wave
) k on k.campaign_id = w.campaign_id and k.credited_wave = w.wave
union all
select ch.campaign_id, c.slug, 'channel', ch.channel, 'treatment', ch.n,
       coalesce(k.responders, 0), coalesce(k.responders, 0)::float8 / nullif(ch.n, 0), null
from (
  select campaign_id, channel, count(distinct customer_id)::int as n
  from campaign_touches group by campaign_id, channel
) ch
join campaigns c on c.id = ch.campaign_id
left join (
  select o.campaign_id, w.channel, count(*)::int as responders
  from member_outcomes o
  join campaign_attribution_windows w on w.campaign_id = o.campaign_id and w.wave = o.credited_wave
  where o."group" = 'treatment' group by o.campaign_id, w.channel
) k on k.campaign_id = ch.campaign_id and k.channel = ch.channel;

-- The same curve for each wave, by day since that wave's date: the members the wave reached
-- against the whole holdout (anchored at the same date), counting first responses inside the
-- wave's window; members who had responded before the wave's date do not count for it.
create view campaign_wave_response_curve as
with per_day as (
  select o.campaign_id, o.campaign, w.wave, o."group",
         floor((date_part('epoch', o.first_response_at) - date_part('epoch', w.starts_at)) / 86400)::int as day, count(*)::int as k
  from member_outcomes o
  join campaign_attribution_windows w on w.campaign_id = o.campaign_id
  where o.first_response_at >= w.starts_at and o.first_response_at < w.ends_at
    and (o."group" = 'holdout' or (o."group" = 'treatment' and w.wave = any(o.reached_waves)))
  group by 1, 2, 3, 4, 5
), groups as (
  select w.campaign_id, c.slug as campaign, w.wave, g."group",
         case when g."group" = 'treatment' then w.sent else (select count(*)::int from campaign_members m
           where m.campaign_id = w.campaign_id and m.holdout and m.suppression_reason is null) end as n,
         ceil(extract(epoch from w.ends_at - w.starts_at) / 86400)::int as days
  from campaign_attribution_windows w
  join campaigns c on c.id = w.campaign_id
  cross join (values ('treatment'), ('holdout')) g ("group")
)
select g.campaign_id, g.campaign, g.wave, g."group", d.day, g.n,
       (sum(coalesce(p.k, 0)) over (partition by g.campaign_id, g.wave, g."group" order by d.day))::int as responders
from groups g
cross join lateral generate_series(0, g.days - 1) as d (day)
left join per_day p on p.campaign_id = g.campaign_id and p.wave = g.wave and p."group" = g."group" and p.day = d.day;
