-- The campaign report as SQL, for analysts and BI tools: `mailroom report` reads these same views,
-- so both show the same numbers. Everything is computed when queried: late orders and responses
-- count at once; the summary stored when the campaign ended (campaigns.summary) is not touched.
--
-- Attribution. Each sent wave opens a window at its date (the earliest sent_at of the wave: the
-- posting date for mail) lasting the campaign's `attribution.window`, or by default 90 days for
-- mail waves and 30 for email and SMS. A response counts for a campaign when it falls between the
-- first wave's date and the end of the last window to close, for holdout members exactly as for
-- treated ones. Responses of kinds both groups can produce (orders from the orders table, branch
-- visits, coupon redemptions, imported responses matched by customer) count for every campaign
-- whose span covers them; "traceable" responses (clicks, PURL visits, QR scans, SMS replies, call
-- outcomes, appointments, anything matched by a response code) only for their own campaign, and
-- never in the lift, since a holdout member cannot produce them.

-- What the views need from the campaign file, written by `mailroom report` from the stored file
-- (the views fall back to the defaults for a campaign without a row).
create table campaign_report_settings (
  campaign_id         bigint primary key references campaigns (id) on delete cascade,
  -- null: 90 days for mail waves, 30 days for email and SMS.
  attribution_window  interval,
  response_kinds      text[] not null,
  currency            text not null default 'CNY',
  updated_at          timestamptz not null default now()
);

-- Kinds that only the campaign's own contact can produce.
create function mailroom_traceable(kind text, details jsonb) returns boolean
language sql immutable parallel safe
as $$
  select kind in ('click', 'purl_visit', 'qr_scan', 'sms_reply', 'call_outcome', 'appointment', 'open')
      or coalesce(details ->> 'matched_by', '') = 'code' or coalesce(details ? 'response_code', false)
$$;

-- One row per sent wave: its date and its attribution window.
create view campaign_attribution_windows as
select d.campaign_id, d.wave, d.channel, count(*)::int as sent, min(d.sent_at) as starts_at,
       min(d.sent_at) + coalesce(s.attribution_window,
         case when d.channel = 'mail' then interval '90 days' else interval '30 days' end) as ends_at
from deliveries d
left join campaign_report_settings s on s.campaign_id = d.campaign_id
where d.status = 'sent' and d.sent_at is not null
group by d.campaign_id, d.wave, d.channel, s.attribution_window;

-- One row per campaign: the span in which responses count.
create view campaign_attribution_spans as
select campaign_id, min(starts_at) as starts_at, max(ends_at) as ends_at
from campaign_attribution_windows group by campaign_id;

-- Every response and order that can count, with whether it is traceable. Kinds outside the
-- campaign's response_kinds are dropped later, per campaign.
create view campaign_response_events as
select r.customer_id, r.campaign_id, r.kind, r.occurred_at, mailroom_traceable(r.kind, r.details) as traceable,
       null::numeric as amount, null::text as currency, r.id as event_id
from responses r where r.customer_id is not null
union all
select o.customer_id, null, 'order', o.occurred_at, false, o.amount, o.currency, -o.id
from orders o;

-- One row per member of a campaign (suppressed members included, as group 'suppressed'): its
-- responses, orders and deliveries joined set-based (grouped hash joins over the campaign's rows),
-- the last touch found among the member's own deliveries.
-- The wave of the latest delivery at or before `at` (ties: the later wave name).
create function mailroom_last_touch(waves text[], times timestamptz[], at timestamptz) returns text
language sql immutable parallel safe
as $$ select u.w from unnest(waves, times) as u (w, t) where u.t <= at order by u.t desc, u.w desc limit 1 $$;

create view member_outcomes as
select m.campaign_id, c.slug as campaign, m.customer_id, m.rank, m.band, m.variant,
       case when m.suppression_reason is not null then 'suppressed' when m.holdout then 'holdout' else 'treatment' end as "group",
       coalesce(d.contacts, 0) as contacts, d.first_contact_at,
       e.first_response_at, e.first_response_kind, e.first_response_at is not null as responded,
       e.first_traceable_at, coalesce(e.traceable_responses, 0) as traceable_responses,
       coalesce(e.orders, 0) as attributed_orders, coalesce(e.revenue, 0) as attributed_revenue,
       coalesce(e.after_window_responses, 0) as after_window_responses,
       case when e.first_response_at is not null then mailroom_last_touch(d.waves, d.times, e.first_response_at) end as credited_wave,
       e.response_day
from campaign_members m
join campaigns c on c.id = m.campaign_id
left join (
  select campaign_id, customer_id, count(*)::int as contacts, min(sent_at) as first_contact_at,
         array_agg(wave) as waves, array_agg(sent_at) as times
  from deliveries where status = 'sent' group by campaign_id, customer_id
) d on d.campaign_id = m.campaign_id and d.customer_id = m.customer_id
left join (
  select ev.campaign_id, ev.customer_id,
         min(ev.occurred_at) filter (where ev.counted and not ev.traceable and ev.inside) as first_response_at,
         (array_agg(ev.kind order by ev.occurred_at, ev.event_id)
            filter (where ev.counted and not ev.traceable and ev.inside))[1] as first_response_kind,
         min(ev.occurred_at) filter (where ev.counted and ev.traceable and ev.inside) as first_traceable_at,
         count(*) filter (where ev.counted and ev.traceable and ev.inside)::int as traceable_responses,
         count(*) filter (where ev.event_id < 0 and ev.inside)::int as orders,
         sum(ev.amount) filter (where ev.event_id < 0 and ev.inside and ev.currency = ev.campaign_currency) as revenue,
         count(*) filter (where ev.counted and not ev.inside)::int as after_window_responses,
         floor(extract(epoch from min(ev.occurred_at) filter (where ev.counted and not ev.traceable and ev.inside)
                                  - min(ev.span_start)) / 86400)::int as response_day
  from (
    select mm.campaign_id, mm.customer_id, sp2.starts_at as span_start, e.kind, e.occurred_at, e.event_id, e.traceable, e.amount, e.currency,
           e.occurred_at < sp2.ends_at as inside, coalesce(st.currency, 'CNY') as campaign_currency,
           (st.response_kinds is null or e.kind = any(st.response_kinds)) as counted
    from campaign_members mm
    join campaign_attribution_spans sp2 on sp2.campaign_id = mm.campaign_id
    left join campaign_report_settings st on st.campaign_id = mm.campaign_id
    join campaign_response_events e on e.customer_id = mm.customer_id and e.occurred_at >= sp2.starts_at
    where not e.traceable or e.campaign_id = mm.campaign_id
  ) ev
  group by ev.campaign_id, ev.customer_id
) e on e.campaign_id = m.campaign_id and e.customer_id = m.customer_id;

-- Per campaign and group (treatment, holdout, suppressed): members, responders, rate and its 95 %
-- Wilson interval (z = 1.959963984540054), traceable responders, attributed orders and revenue.
create view campaign_results as
select campaign_id, campaign, "group", n, responders, rate,
       case when n > 0 then ((responders + 1.920729410347062) / (n + 3.841458820694124))
         - (1.959963984540054 / (n + 3.841458820694124)) * sqrt(responders::float8 * (n - responders) / n + 0.960364705173531) end as ci95_low,
       case when n > 0 then ((responders + 1.920729410347062) / (n + 3.841458820694124))
         + (1.959963984540054 / (n + 3.841458820694124)) * sqrt(responders::float8 * (n - responders) / n + 0.960364705173531) end as ci95_high,
       traceable_responders, attributed_orders, attributed_revenue
from (
  select campaign_id, campaign, "group", count(*)::int as n, count(*) filter (where responded)::int as responders,
         (count(*) filter (where responded))::float8 / nullif(count(*), 0) as rate,
         count(*) filter (where traceable_responses > 0)::int as traceable_responders,
         sum(attributed_orders)::int as attributed_orders, sum(attributed_revenue) as attributed_revenue
  from member_outcomes group by campaign_id, campaign, "group"
) g;

-- The same counts by band, variant, customer tier, province and (treated only: contacted members,
-- responders credited to the wave by last touch) wave.
create view campaign_breakdowns as
select o.campaign_id, o.campaign, dims.dimension, dims.value, o."group", count(*)::int as n,
       count(*) filter (where o.responded)::int as responders,
       (count(*) filter (where o.responded))::float8 / nullif(count(*), 0) as rate,
       sum(o.attributed_revenue) as attributed_revenue
from member_outcomes o
join customers cu on cu.id = o.customer_id
cross join lateral (values
  ('band', o.band), ('variant', o.variant), ('tier', cu.attributes ->> 'tier'), ('province', cu.province)
) as dims (dimension, value)
where o."group" <> 'suppressed'
group by o.campaign_id, o.campaign, dims.dimension, dims.value, o."group"
union all
select w.campaign_id, c.slug, 'wave', w.wave, 'treatment', w.sent,
       (select count(*)::int from member_outcomes o where o.campaign_id = w.campaign_id and o."group" = 'treatment' and o.credited_wave = w.wave),
       null, null
from campaign_attribution_windows w join campaigns c on c.id = w.campaign_id;

-- The cumulative response curve: by day since the first wave's date, how many of each group have
-- responded (first response of a kind both groups can produce), through the last window's end.
create view campaign_response_curve as
with per_day as (
  select campaign_id, campaign, "group", response_day, count(*)::int as k
  from member_outcomes where "group" <> 'suppressed' group by campaign_id, campaign, "group", response_day
), groups as (
  select campaign_id, campaign, "group", sum(k)::int as n from per_day group by campaign_id, campaign, "group"
), days as (
  select campaign_id, generate_series(0, ceil(extract(epoch from ends_at - starts_at) / 86400)::int - 1) as day
  from campaign_attribution_spans
)
select g.campaign_id, g.campaign, g."group", d.day, g.n,
       (sum(coalesce(p.k, 0)) over (partition by g.campaign_id, g."group" order by d.day))::int as responders
from groups g
join days d on d.campaign_id = g.campaign_id
left join per_day p on p.campaign_id = g.campaign_id and p."group" = g."group" and p.response_day = d.day;
