// Everything a campaign report counts, read from PostgreSQL in one repeatable-read transaction (so
// every figure is as of the same instant), through the functions and views of
// db/migrations/0012_report_views_v2.sql: the report and an analyst's SQL count the same way. The
// outcomes of the members with a response or an order are computed once into a temporary table, in
// one pass over responses, orders and the campaign's deliveries; every breakdown is grouped from
// it and one scan of the members.
import type { Sql } from '../../db/connection.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { readReportSettings, type ReportSettings } from './settings.ts';

export interface CampaignRow {
  id: number;
  slug: string;
  name: string;
  status: string;
  snapshot_at: Date | null;
  completed_at: Date | null;
  spec: { file: string; text: string };
  summary: Record<string, unknown> | null;
}

export interface WaveDeliveries {
  wave: string;
  channel: string;
  sent: number;
  failed: number;
  uncertain: number;
  printed: number;
  pending: number;
}

export interface AttributionWindow {
  wave: string;
  channel: string;
  sent: number;
  starts_at: Date;
  ends_at: Date;
}

/** One grouping of the member outcomes: `dimension` 'all' is the whole group. */
export interface OutcomeCell {
  group: 'treatment' | 'holdout' | 'suppressed';
  dimension: 'all' | 'band' | 'variant' | 'segment' | 'tier' | 'province' | 'cohort' | 'wave' | 'day';
  value: string | null;
  n: number;
  responders: number;
  traceable_responders: number;
  orders: number;
  /** Attributed revenue in minor units of the campaign's currency. */
  revenue_minor: number;
  after_window: number;
}

/** Responders whose first response fell on `day` since `wave`'s date, inside its window. */
export interface WaveDay {
  wave: string;
  group: 'treatment' | 'holdout';
  day: number;
  responders: number;
}

export interface ReportData {
  campaign: CampaignRow;
  settings: ReportSettings;
  asOf: Date;
  latestDataAt: Date | null;
  waves: WaveDeliveries[];
  windows: AttributionWindow[];
  cells: OutcomeCell[];
  waveDays: WaveDay[];
  /** Members reached by each channel that carried more than one wave. */
  channelReach: { channel: string; n: number }[];
  /** Pieces sent (mail: printed too) by band and wave. */
  bandPieces: { band: string | null; wave: string; pieces: number }[];
  gifts: { band: string | null; offer: string; gifts: number }[];
  overlap: { campaign: string; shared_responders: number }[];
  imports: ImportCheck[];
  /** The responses goal: treated members with a response of its kind to the campaign, by its deadline and now. */
  goal: { by: Date; by_deadline: number; now: number } | null;
}

export interface ImportCheck {
  kind: string;
  imports: number;
  read: number;
  matched: number;
  unmatched: number;
  duplicates: number;
  rejected: number;
}

export async function findCampaign(sql: Sql, slug: string): Promise<CampaignRow> {
  const [row] = await sql<CampaignRow[]>`
    select id, slug, name, status, snapshot_at, completed_at, spec, summary from campaigns where slug = ${slug}`;
  if (!row) throw new UserError(`no campaign called ${slug} has been launched`, ExitCode.badInput);
  return row;
}

/** Keeps campaign_report_settings in step with the stored campaign file (the views read it). */
export async function storeReportSettings(sql: Sql, campaignId: number, s: ReportSettings): Promise<void> {
  const window = s.attributionWindowDays === null ? null : `${s.attributionWindowDays} days`;
  const waves = s.waves.map((w) => w.name);
  const gifts = Object.fromEntries(
    Object.entries(s.giftCostsMinor).map(([offer, minor]) => [offer, minor / 10 ** s.minorDigits]),
  );
  await sql`
    insert into campaign_report_settings (campaign_id, attribution_window, response_kinds, currency, waves, gift_costs)
    values (${campaignId}, ${window}::interval, ${s.responseKinds}::text[], ${s.currency}, ${waves}::text[], ${sql.json(gifts)})
    on conflict (campaign_id) do update
      set attribution_window = excluded.attribution_window, response_kinds = excluded.response_kinds,
          currency = excluded.currency, waves = excluded.waves, gift_costs = excluded.gift_costs, updated_at = now()
      where (campaign_report_settings.attribution_window, campaign_report_settings.response_kinds, campaign_report_settings.currency,
             campaign_report_settings.waves, campaign_report_settings.gift_costs)
        is distinct from (excluded.attribution_window, excluded.response_kinds, excluded.currency, excluded.waves, excluded.gift_costs)`;
}

// grouping() sets a bit per column left out, the first column being the highest bit.
const SETS: Record<number, OutcomeCell['dimension']> = {
  0b111111: 'all',
  0b011111: 'band',
  0b101111: 'variant',
  0b110111: 'segment',
  0b111011: 'tier',
  0b111101: 'province',
  0b111110: 'cohort',
};

/** Above this many members the joins are hashed: the planner misjudges the per-member groups. */
const LARGE = 20_000;

export async function readReportData(sql: Sql, slug: string): Promise<ReportData> {
  const campaign = await findCampaign(sql, slug);
  const settings = readReportSettings(campaign.spec.file, campaign.spec.text);
  await storeReportSettings(sql, campaign.id, settings);
  const id = campaign.id;
  const digits = settings.minorDigits;
  const waveNames = settings.waves.map((w) => w.name);
  return sql.begin('isolation level repeatable read', async (tx) => {
    // The outcomes are grouped per member in hash joins; over a million members the default
    // work_mem makes them spill to disk.
    await tx`set local work_mem = '256MB'`;
    const [{ as_of, latest, members } = { as_of: new Date(), latest: null, members: 0 }] = await tx<
      { as_of: Date; latest: Date | null; members: number }[]
    >`
      select now() as as_of, greatest((select max(created_at) from responses), (select max(created_at) from orders)) as latest,
             (select count(*)::int from campaign_members where campaign_id = ${id}) as members`;
    if (members > LARGE) await tx`set local enable_nestloop = off`;
    // The deliveries by wave and by the member's band in one scan: the wave counts and the pieces per band.
    const byBand = await tx<(WaveDeliveries & { band: string | null; pieces: number })[]>`
      select m.band, d.wave, d.channel, count(*) filter (where d.status = 'sent')::int as sent,
             count(*) filter (where d.status = 'failed')::int as failed,
             count(*) filter (where d.status = 'uncertain' or d.recovery is not null)::int as uncertain,
             count(*) filter (where d.status = 'printed')::int as printed, count(*) filter (where d.status = 'pending')::int as pending,
             count(*) filter (where d.status in ('sent', 'printed') and m.customer_id is not null)::int as pieces
      from deliveries d left join campaign_members m on m.campaign_id = d.campaign_id and m.customer_id = d.customer_id
      where d.campaign_id = ${id} group by 1, 2, 3`;
    const waves: WaveDeliveries[] = [];
    for (const { band: _band, pieces: _pieces, ...r } of byBand) {
      const w = waves.find((x) => x.wave === r.wave && x.channel === r.channel);
      if (!w) waves.push({ ...r });
      else for (const k of ['sent', 'failed', 'uncertain', 'printed', 'pending'] as const) w[k] += r[k];
    }
    const bandPieces = byBand.filter((r) => r.pieces > 0).map(({ band, wave, pieces }) => ({ band, wave, pieces }));
    const windows = await tx<AttributionWindow[]>`
      select wave, channel, sent, starts_at, ends_at from campaign_attribution_windows where campaign_id = ${id} order by starts_at, wave`;
    const span = windows.length
      ? {
          starts: new Date(Math.min(...windows.map((w) => w.starts_at.getTime()))),
          ends: new Date(Math.max(...windows.map((w) => w.ends_at.getTime()))),
        }
      : null;
    // Every member with a response or an order from the span's start on, computed once (see
    // db/migrations/0012_report_views_v2.sql); nothing counts before the first wave is sent.
    await tx`
      create temporary table report_outcomes on commit drop as
      select * from mailroom_member_outcomes(${id}, ${span?.starts ?? null}, ${span?.ends ?? null},
        ${settings.responseKinds}::text[], ${settings.currency}, ${waveNames}::text[])
      where ${span !== null}`;
    // Its row counts for the planner: the per-wave curve below is then grouped by hashing, not sorted.
    await tx`analyze report_outcomes`;
    // Each member's dimensions grouped finely first (in parallel), then the small result rolled up.
    const rows = await tx<(Omit<OutcomeCell, 'dimension'> & { set: number })[]>`
      select "group", coalesce(band, variant, segment, tier, province, cohort::text) as value,
             grouping(band, variant, segment, tier, province, cohort) as set,
             sum(n)::int as n, sum(responders)::int as responders, sum(traceable_responders)::int as traceable_responders,
             coalesce(sum(orders), 0)::int as orders,
             coalesce(round(sum(revenue) * 10 ^ ${digits}::int), 0)::bigint as revenue_minor,
             coalesce(sum(after_window), 0)::int as after_window
      from (
        select case when m.suppression_reason is not null then 'suppressed' when m.holdout then 'holdout' else 'treatment' end as "group",
               m.band, m.variant, cu.attributes ->> 'segment' as segment, cu.attributes ->> 'tier' as tier, cu.province, m.cohort,
               count(*) as n, count(o.first_response_at) as responders, count(*) filter (where o.traceable_responses > 0) as traceable_responders,
               sum(o.orders) as orders, sum(o.revenue) as revenue, sum(o.after_window_responses) as after_window
        from campaign_members m
        join customers cu on cu.id = m.customer_id
        left join report_outcomes o on o.customer_id = m.customer_id
        where m.campaign_id = ${id}
        group by 1, 2, 3, 4, 5, 6, 7
      ) f
      group by grouping sets (("group"), ("group", band), ("group", variant), ("group", segment), ("group", tier), ("group", province),
                              ("group", cohort))`;
    const cells: OutcomeCell[] = rows.map(({ set, ...r }) => ({ ...r, dimension: SETS[set]! }));
    // Responders by the wave credited (last touch) and by day since the first wave's date.
    const timed = await tx<{ group: OutcomeCell['group']; value: string | null; set: number; responders: number }[]>`
      select "group", coalesce(credited_wave, response_day::text) as value, grouping(credited_wave, response_day) as set,
             count(*)::int as responders
      from report_outcomes where first_response_at is not null
      group by grouping sets (("group", credited_wave), ("group", response_day))`;
    for (const t of timed)
      cells.push({
        group: t.group,
        dimension: t.set === 0b01 ? 'wave' : 'day',
        value: t.value,
        n: 0,
        responders: t.responders,
        traceable_responders: 0,
        orders: 0,
        revenue_minor: 0,
        after_window: 0,
      });
    // By day since each wave's date: the members it reached, and the holdout from the same date.
    const waveDays = windows.length
      ? await tx<WaveDay[]>`
          select w.wave, o."group", floor((date_part('epoch', o.first_response_at) - date_part('epoch', w.starts_at)) / 86400)::int as day,
                 count(*)::int as responders
          from report_outcomes o
          join unnest(${windows.map((w) => w.wave)}::text[], ${windows.map((w) => w.starts_at.toISOString())}::timestamptz[],
                      ${windows.map((w) => w.ends_at.toISOString())}::timestamptz[]) as w (wave, starts_at, ends_at)
            on o.first_response_at >= w.starts_at and o.first_response_at < w.ends_at
          where o."group" = 'holdout' or (o."group" = 'treatment' and w.wave = any(o.reached_waves))
          group by 1, 2, 3`
      : [];
    // A channel with one wave reaches the members its wave reached; with several, count them once.
    const shared = [...new Set(windows.map((w) => w.channel))].filter(
      (c) => windows.filter((w) => w.channel === c).length > 1,
    );
    const channelReach = shared.length
      ? await tx<{ channel: string; n: number }[]>`
          select channel, count(distinct customer_id)::int as n from campaign_touches
          where campaign_id = ${id} and channel = any(${shared}::text[]) group by channel`
      : [];
    const gifts = await tx<{ band: string | null; offer: string; gifts: number }[]>`
      select band, offer, gifts from mailroom_gift_costs(${id})`;
    // Other campaigns whose attribution span meets this one's: usually none, and then no join at all.
    const others = span
      ? await tx<{ campaign_id: number }[]>`
          select campaign_id from campaign_attribution_spans
          where campaign_id <> ${id} and starts_at < ${span.ends} and ends_at > ${span.starts}`
      : [];
    const overlap = others.length
      ? await tx<{ campaign: string; shared_responders: number }[]>`
          select c2.slug as campaign, count(distinct o.customer_id)::int as shared_responders
          from report_outcomes o
          join campaign_members m2 on m2.customer_id = o.customer_id and m2.suppression_reason is null
            and m2.campaign_id = any(${others.map((o) => o.campaign_id)}::bigint[])
          join campaign_attribution_spans s2 on s2.campaign_id = m2.campaign_id
            and o.first_response_at >= s2.starts_at and o.first_response_at < s2.ends_at
          join campaigns c2 on c2.id = m2.campaign_id
          where o.first_response_at is not null and o."group" <> 'suppressed'
          group by c2.slug order by c2.slug`
      : [];
    // Order and response imports since the first wave. The columns of a responses import (matched,
    // unmatched, duplicates) are read through to_jsonb, so the report runs before they exist.
    const imports = span
      ? await tx<ImportCheck[]>`
          select kind, count(*)::int as imports, sum(read)::int as read,
                 sum(case when kind = 'responses' then coalesce((to_jsonb(i) ->> 'matched')::int, 0) else inserted + updated end)::int as matched,
                 sum(coalesce((to_jsonb(i) ->> 'unmatched')::int, 0))::int as unmatched,
                 sum(coalesce((to_jsonb(i) ->> 'duplicates')::int, 0))::int as duplicates,
                 sum(rejected)::int as rejected
          from imports i where kind in ('orders', 'responses') and started_at >= ${span.starts} group by kind order by kind`
      : [];
    // As `mailroom status` counts the goal: treated members with a response of the kind to the campaign.
    const goalStart = campaign.snapshot_at ?? span?.starts ?? null;
    const goalBy = settings.goal && goalStart ? new Date(goalStart.getTime() + settings.goal.byMs) : null;
    const [goalRow] =
      settings.goal && goalBy
        ? await tx<{ by_deadline: number; now: number }[]>`
            select count(distinct r.customer_id) filter (where r.occurred_at < ${goalBy})::int as by_deadline,
                   count(distinct r.customer_id)::int as now
            from responses r join campaign_members m on m.campaign_id = r.campaign_id and m.customer_id = r.customer_id
            where r.campaign_id = ${id} and r.kind = ${settings.goal.kind} and not m.holdout`
        : [];
    return {
      campaign,
      settings,
      goal: goalRow && goalBy ? { by: goalBy, ...goalRow } : null,
      asOf: as_of,
      latestDataAt: latest,
      waves,
      windows,
      cells,
      waveDays,
      channelReach,
      bandPieces,
      gifts,
      overlap,
      imports,
    };
  });
}
