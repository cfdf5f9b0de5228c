// Everything a campaign report counts, read from PostgreSQL in one repeatable-read transaction (so
// every figure is as of the same instant), through the views of db/migrations/0008_report_views.sql:
// the report and an analyst's SQL count the same way. The member outcomes are computed once into a
// temporary table, and every breakdown is grouped from it.
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

/** One grouping of the member outcomes: `dimension` null is the whole group. */
export interface OutcomeCell {
  group: 'treatment' | 'holdout' | 'suppressed';
  dimension: 'all' | 'band' | 'variant' | 'tier' | 'province' | 'wave' | 'day';
  value: string | null;
  n: number;
  responders: number;
  traceable_responders: number;
  orders: number;
  /** Attributed revenue in minor units of the campaign's currency. */
  revenue_minor: number;
  after_window: number;
}

export interface ReportData {
  campaign: CampaignRow;
  settings: ReportSettings;
  asOf: Date;
  latestDataAt: Date | null;
  waves: WaveDeliveries[];
  windows: AttributionWindow[];
  cells: OutcomeCell[];
  overlap: { campaign: string; shared_responders: number }[];
  imports: { kind: string; read: number; matched: number; rejected: number }[];
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
  await sql`
    insert into campaign_report_settings (campaign_id, attribution_window, response_kinds, currency)
    values (${campaignId}, ${window}::interval, ${s.responseKinds}::text[], ${s.currency})
    on conflict (campaign_id) do update
      set attribution_window = excluded.attribution_window, response_kinds = excluded.response_kinds,
          currency = excluded.currency, updated_at = now()
      where (campaign_report_settings.attribution_window, campaign_report_settings.response_kinds, campaign_report_settings.currency)
        is distinct from (excluded.attribution_window, excluded.response_kinds, excluded.currency)`;
}

export async function readReportData(sql: Sql, slug: string): Promise<ReportData> {
  const campaign = await findCampaign(sql, slug);
  const settings = readReportSettings(campaign.spec.file, campaign.spec.text);
  await storeReportSettings(sql, campaign.id, settings);
  const id = campaign.id;
  const digits = settings.minorDigits;
  return sql.begin('isolation level repeatable read', async (tx) => {
    // The outcomes are grouped per member in hash joins; over a million members the default
    // work_mem makes them spill to disk.
    await tx`set local work_mem = '128MB'`;
    const [{ as_of, latest } = { as_of: new Date(), latest: null }] = await tx<{ as_of: Date; latest: Date | null }[]>`
      select now() as as_of, greatest((select max(created_at) from responses), (select max(created_at) from orders)) as latest`;
    const waves = await tx<WaveDeliveries[]>`
      select wave, channel, count(*) filter (where status = 'sent')::int as sent, count(*) filter (where status = 'failed')::int as failed,
             count(*) filter (where status = 'uncertain' or recovery is not null)::int as uncertain,
             count(*) filter (where status = 'printed')::int as printed, count(*) filter (where status = 'pending')::int as pending
      from deliveries where campaign_id = ${id} group by wave, channel`;
    const windows = await tx<AttributionWindow[]>`
      select wave, channel, sent, starts_at, ends_at from campaign_attribution_windows where campaign_id = ${id} order by starts_at, wave`;
    await tx`
      create temporary table report_outcomes on commit drop as
      select o.*, cu.attributes ->> 'tier' as tier, cu.province
      from member_outcomes o join customers cu on cu.id = o.customer_id
      where o.campaign_id = ${id}`;
    const rows = await tx<(Omit<OutcomeCell, 'dimension' | 'value'> & { set: number; value: string | null })[]>`
      select "group", coalesce(band, variant, tier, province, credited_wave, response_day::text) as value,
             grouping(band, variant, tier, province, credited_wave, response_day) as set,
             count(*)::int as n, count(*) filter (where responded)::int as responders,
             count(*) filter (where traceable_responses > 0)::int as traceable_responders,
             coalesce(sum(attributed_orders), 0)::int as orders,
             coalesce(round(sum(attributed_revenue) * 10 ^ ${digits}::int), 0)::bigint as revenue_minor,
             coalesce(sum(after_window_responses), 0)::int as after_window
      from report_outcomes
      group by grouping sets (("group"), ("group", band), ("group", variant), ("group", tier), ("group", province),
                              ("group", credited_wave), ("group", response_day))`;
    // grouping() sets a bit per column left out, the first column being the highest bit.
    const SETS: Record<number, OutcomeCell['dimension']> = {
      0b111111: 'all',
      0b011111: 'band',
      0b101111: 'variant',
      0b110111: 'tier',
      0b111011: 'province',
      0b111101: 'wave',
      0b111110: 'day',
    };
    const cells = rows.map(({ set, ...r }) => ({ ...r, dimension: SETS[set]! }));
    // Other campaigns whose attribution span meets this one's: usually none, and then no join at all.
    const span = windows.length
      ? {
          starts: new Date(Math.min(...windows.map((w) => w.starts_at.getTime()))),
          ends: new Date(Math.max(...windows.map((w) => w.ends_at.getTime()))),
        }
      : null;
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
          where o.responded and o."group" <> 'suppressed'
          group by c2.slug order by c2.slug`
      : [];
    const imports = span
      ? await tx<{ kind: string; read: number; matched: number; rejected: number }[]>`
          select kind, sum(read)::int as read, sum(inserted + updated)::int as matched, sum(rejected)::int as rejected
          from imports where kind in ('orders', 'responses') and started_at >= ${span.starts} group by kind order by kind`
      : [];
    return {
      campaign,
      settings,
      asOf: as_of,
      latestDataAt: latest,
      waves,
      windows,
      cells,
      overlap,
      imports,
    };
  });
}
