// Everything a campaign report counts, read from PostgreSQL in one repeatable-read transaction (so
// every figure is as of the same instant). Each member's outcome is computed by the functions that
// the views of db/migrations/0012_report_views_v2.sql use, so the report and an analyst's SQL count
// the same way; the outcomes are kept between reports with their tallies and brought up to date
// with the customers that changed since (pipeline/report/tallies.ts).
import type { Sql } from '../../db/connection.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { readReportSettings, type ReportSettings } from './settings.ts';
import { refreshTallies, runLocked, spanOf, type Refresh } from './tallies.ts';

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
  /** How the kept outcomes were brought up to date for this report. */
  refresh: Refresh;
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

export async function readReportData(sql: Sql, slug: string): Promise<ReportData> {
  const campaign = await findCampaign(sql, slug);
  const settings = readReportSettings(campaign.spec.file, campaign.spec.text);
  await storeReportSettings(sql, campaign.id, settings);
  const id = campaign.id;
  const digits = settings.minorDigits;
  return runLocked(sql, async (tx) => {
    // A rebuild groups every member's events in hash joins; over a million members the default
    // work_mem makes them spill to disk.
    await tx`set local work_mem = '256MB'`;
    const [{ as_of, latest } = { as_of: new Date(), latest: null }] = await tx<{ as_of: Date; latest: Date | null }[]>`
      select now() as as_of, greatest((select max(created_at) from responses), (select max(created_at) from orders)) as latest`;
    // The deliveries by wave and status, as counted when they were written.
    const waves = await tx<WaveDeliveries[]>`
      select wave, channel, coalesce(sum(n) filter (where status = 'sent'), 0)::int as sent,
             coalesce(sum(n) filter (where status = 'failed'), 0)::int as failed,
             coalesce(sum(n) filter (where status = 'uncertain' or recovered), 0)::int as uncertain,
             coalesce(sum(n) filter (where status = 'printed'), 0)::int as printed,
             coalesce(sum(n) filter (where status = 'pending'), 0)::int as pending
      from delivery_counts where campaign_id = ${id} group by 1, 2 having sum(n) > 0 order by 1, 2`;
    const windows = await tx<AttributionWindow[]>`
      select wave, channel, sent, starts_at, ends_at from campaign_attribution_windows where campaign_id = ${id} order by starts_at, wave`;
    const span = spanOf(windows);
    // Every member's outcome, brought up to date with what changed since the last report (see
    // db/migrations/0016_report_tallies.sql), and added up.
    const refresh = await refreshTallies(tx, id, settings, windows);
    const tallies = await tx<
      (Omit<OutcomeCell, 'dimension' | 'revenue_minor' | 'value'> & {
        tally: string;
        dimension: string;
        value: string;
        revenue_minor: string;
      })[]
    >`
      select tally, "group", dimension, value, n::int, responders::int, traceable_responders::int, orders::int,
             round(revenue * 10 ^ ${digits}::int)::bigint as revenue_minor, after_window::int
      from report_tallies where campaign_id = ${id} order by tally, "group", dimension, value`;
    const orNull = (v: string) => (v === '' ? null : v);
    const cells: OutcomeCell[] = [];
    const waveDays: WaveDay[] = [];
    const bandPieces: ReportData['bandPieces'] = [];
    for (const t of tallies) {
      if (t.tally === 'pieces') bandPieces.push({ band: orNull(t.dimension), wave: t.value, pieces: t.n });
      else if (t.tally === 'wave_day')
        waveDays.push({
          wave: t.dimension,
          group: t.group as WaveDay['group'],
          day: Number(t.value),
          responders: t.responders,
        });
      else
        cells.push({
          group: t.group,
          dimension: (t.tally === 'cell' ? t.dimension : t.tally) as OutcomeCell['dimension'],
          value: orNull(t.value),
          n: t.n,
          responders: t.responders,
          traceable_responders: t.traceable_responders,
          orders: t.orders,
          revenue_minor: Number(t.revenue_minor),
          after_window: t.after_window,
        });
    }
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
          from report_member_rows o
          join campaign_members m2 on m2.customer_id = o.customer_id and m2.suppression_reason is null
            and m2.campaign_id = any(${others.map((o) => o.campaign_id)}::bigint[])
          join campaign_attribution_spans s2 on s2.campaign_id = m2.campaign_id
            and o.first_response_at >= s2.starts_at and o.first_response_at < s2.ends_at
          join campaigns c2 on c2.id = m2.campaign_id
          where o.campaign_id = ${id} and o.first_response_at is not null and o."group" <> 'suppressed'
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
      refresh,
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
