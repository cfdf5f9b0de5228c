// Brings a campaign's report rows and tallies (db/migrations/0016_report_tallies.sql) up to date:
// the members whose customers changed since the last refresh are computed again, their old rows
// taken out of the tallies and the new ones added; different settings or windows, or changes to
// more than a quarter of the members (and over 10,000), rebuild the campaign's rows whole.
import type { Sql } from '../../db/connection.ts';
import type { ReportSettings } from './settings.ts';

/** Only one report refreshes at a time: see runLocked. */
const LOCK_KEY = 7_305_002_016;

/** Days a campaign's rows are kept without a report. */
const KEEP_DAYS = 7;

/** Above this many members a rebuild hashes its joins. */
const LARGE = 20_000;

/** Below this many changed members the rows are always updated in place, however small the campaign. */
const REBUILD_ABOVE = 10_000;

export interface TallyWindow {
  wave: string;
  channel: string;
  starts_at: Date;
  ends_at: Date;
}

export interface Refresh {
  /** The campaign's rows were computed whole (first report, new settings or windows, many changes). */
  rebuilt: boolean;
  /** Members computed again. */
  members: number;
}

/**
 * Runs `work` in a repeatable-read transaction, after every other report's refresh has ended. A
 * refresh removes the changes that every campaign's rows have taken in, so two at once could remove
 * one that the other has yet to take: the lock is held from before the transaction's snapshot.
 */
export async function runLocked<T>(sql: Sql, work: (tx: Sql) => Promise<T>): Promise<T> {
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${LOCK_KEY})`;
    try {
      await conn`begin isolation level repeatable read`;
      try {
        const result = await work(conn as unknown as Sql);
        await conn`commit`;
        return result;
      } catch (error) {
        await conn`rollback`.catch(() => undefined);
        throw error;
      }
    } finally {
      await conn`select pg_advisory_unlock(${LOCK_KEY})`.catch(() => undefined);
    }
  } finally {
    conn.release();
  }
}

/** From the first window's start to the last one's end; nothing counts before the first wave is sent. */
export function spanOf(windows: TallyWindow[]): { starts: Date; ends: Date } | null {
  return windows.length
    ? {
        starts: new Date(Math.min(...windows.map((w) => w.starts_at.getTime()))),
        ends: new Date(Math.max(...windows.map((w) => w.ends_at.getTime()))),
      }
    : null;
}

export async function refreshTallies(
  tx: Sql,
  campaignId: number,
  settings: ReportSettings,
  windows: TallyWindow[],
): Promise<Refresh> {
  const waveNames = settings.waves.map((w) => w.name);
  const span = spanOf(windows);
  const key = {
    kinds: settings.responseKinds,
    currency: settings.currency,
    waves: waveNames,
    windows: windows.map((w) => [w.wave, w.channel, w.starts_at.toISOString(), w.ends_at.toISOString()]),
  };
  const windowWaves = windows.map((w) => w.wave);
  /** The member rows of all members (null), or of those customers. */
  const rows = (subset: number[] | null) => tx`
    select * from mailroom_member_rows(${campaignId}, ${span?.starts ?? null}, ${span?.ends ?? null},
      ${settings.responseKinds}::text[], ${settings.currency}, ${waveNames}::text[],
      ${windowWaves}::text[], ${windows.map((w) => w.starts_at.toISOString())}::timestamptz[],
      ${windows.map((w) => w.ends_at.toISOString())}::timestamptz[], ${subset}::bigint[])`;
  /**
   * Adds the member rows of a table to the tallies (sign 1), or takes them out (-1). The sums are
   * computed into a table of their own first: a query that writes runs on one core, one that
   * creates a table may use more.
   */
  const tally = async (sign: 1 | -1, from: 'report_member_rows' | 'report_old_rows' | 'report_new_rows') => {
    const mine = tx`r.campaign_id = ${campaignId}`;
    await tx`
      create temporary table report_tally_rows on commit drop as
      -- Each member's dimensions grouped finely first, then the small result rolled up.
      -- grouping() sets a bit per column left out, the first column being the highest bit.
      select 'cell' as tally, "group",
             case grouping(band, variant, segment, tier, province, cohort) when 63 then 'all' when 31 then 'band'
               when 47 then 'variant' when 55 then 'segment' when 59 then 'tier' when 61 then 'province' else 'cohort' end as dimension,
             coalesce(band, variant, segment, tier, province, cohort::text, '') as value,
             sum(n) as n, sum(responders) as responders, sum(traceable_responders) as traceable_responders,
             sum(orders) as orders, sum(revenue) as revenue, sum(after_window) as after_window
      from (
        select "group", band, variant, segment, tier, province, cohort, count(*) as n, count(first_response_at) as responders,
               count(*) filter (where traceable_responses > 0) as traceable_responders, sum(orders) as orders,
               sum(revenue) as revenue, sum(after_window) as after_window
        from ${tx(from)} r where ${mine}
        group by 1, 2, 3, 4, 5, 6, 7
      ) f
      group by grouping sets (("group"), ("group", band), ("group", variant), ("group", segment), ("group", tier),
                              ("group", province), ("group", cohort))
      union all
      -- Responders by the wave credited (last touch) and by day since the first wave's date.
      select case grouping(credited_wave, response_day) when 1 then 'wave' else 'day' end, "group", '',
             coalesce(credited_wave, response_day::text, ''), 0, count(*), 0, 0, 0, 0
      from ${tx(from)} r where ${mine} and first_response_at is not null
      group by grouping sets (("group", credited_wave), ("group", response_day))
      union all
      -- By day since each wave's date.
      select 'wave_day', "group", (${windowWaves}::text[])[w.i], w.day::text, 0, count(*), 0, 0, 0, 0
      from ${tx(from)} r cross join lateral unnest(r.wave_days) with ordinality as w (day, i)
      where ${mine} and w.day is not null
      group by 2, 3, 4
      union all
      -- Pieces sent or printed, by band and wave.
      select 'pieces', '', coalesce(band, ''), p.wave, count(*), 0, 0, 0, 0, 0
      from ${tx(from)} r cross join lateral unnest(r.pieces) as p (wave)
      where ${mine}
      group by 3, 4
`;
    await tx`
      insert into report_tallies as t
      select ${campaignId}::bigint, x.tally, x."group", x.dimension, x.value, ${sign}::int * x.n, ${sign}::int * x.responders,
             ${sign}::int * x.traceable_responders, ${sign}::int * x.orders, ${sign}::int * x.revenue, ${sign}::int * x.after_window
      from report_tally_rows x
      on conflict (campaign_id, tally, "group", dimension, value) do update
        set n = t.n + excluded.n, responders = t.responders + excluded.responders,
            traceable_responders = t.traceable_responders + excluded.traceable_responders, orders = t.orders + excluded.orders,
            revenue = t.revenue + excluded.revenue, after_window = t.after_window + excluded.after_window`;
    await tx`drop table report_tally_rows`;
  };

  const [cache] = await tx<{ same: boolean; snapshot: string }[]>`
    select key = ${tx.json(key)}::jsonb as same, snapshot::text from report_caches where campaign_id = ${campaignId}`;
  let refresh: Refresh;
  const rebuild = async (): Promise<Refresh> => {
    await tx`delete from report_member_rows where campaign_id = ${campaignId}`;
    await tx`delete from report_tallies where campaign_id = ${campaignId}`;
    const [{ members } = { members: 0 }] = await tx<{ members: number }[]>`
      select count(*)::int as members from campaign_members where campaign_id = ${campaignId}`;
    // Over many members the planner misjudges the per-member groups; hash joins are right there.
    if (members > LARGE) await tx`set local enable_nestloop = off`;
    // Computed into a table of this transaction first: the tallies read that, not the shared table.
    const computed = await tx`create temporary table report_new_rows on commit drop as ${rows(null)}`;
    await tx`insert into report_member_rows select * from report_new_rows`;
    await tally(1, 'report_member_rows');
    if (members > LARGE) await tx`set local enable_nestloop to default`;
    return { rebuilt: true, members: computed.count };
  };
  if (!cache?.same) refresh = await rebuild();
  else {
    // The members whose customers changed in transactions this campaign's rows have not seen.
    const [{ changed } = { changed: [] }] = await tx<{ changed: number[] }[]>`
      with changes as materialized (
        select distinct customer_id from report_changes where not pg_visible_in_snapshot(xid, ${cache.snapshot}::pg_snapshot)
      )
      -- Looked up among the members by the primary key, not by joining every member.
      select coalesce(array_agg(m.customer_id), '{}') as changed from campaign_members m
      where m.campaign_id = ${campaignId} and m.customer_id = any(array(select customer_id from changes))`;
    const [{ members } = { members: 0 }] = await tx<{ members: number }[]>`
      select coalesce(sum(n), 0)::int as members from report_tallies
      where campaign_id = ${campaignId} and tally = 'cell' and dimension = 'all'`;
    if (changed.length > REBUILD_ABOVE && changed.length > members / 4) refresh = await rebuild();
    else {
      if (changed.length > 0) {
        // Planned for these customers: the index lookups the subset allows, not scans of everything.
        await tx`set local plan_cache_mode = force_custom_plan`;
        // The old and the new rows of the changed members go through small tables of their own.
        await tx`
          create temporary table report_old_rows on commit drop as
          select * from report_member_rows where campaign_id = ${campaignId} and customer_id = any(${changed}::bigint[])`;
        await tally(-1, 'report_old_rows');
        await tx`delete from report_member_rows where campaign_id = ${campaignId} and customer_id = any(${changed}::bigint[])`;
        await tx`create temporary table report_new_rows on commit drop as ${rows(changed)}`;
        await tx`insert into report_member_rows select * from report_new_rows`;
        await tally(1, 'report_new_rows');
        await tx`
          delete from report_tallies where campaign_id = ${campaignId}
            and n = 0 and responders = 0 and traceable_responders = 0 and orders = 0 and revenue = 0 and after_window = 0`;
      }
      refresh = { rebuilt: false, members: changed.length };
    }
  }
  await tx`
    insert into report_caches (campaign_id, key, snapshot) values (${campaignId}, ${tx.json(key)}, pg_current_snapshot())
    on conflict (campaign_id) do update set key = excluded.key, snapshot = excluded.snapshot, refreshed_at = now()`;
  // A campaign nobody has reported on for a week keeps no rows: its next report computes them
  // whole, and the changes since its last report need not be kept for it.
  await tx`delete from report_caches where campaign_id <> ${campaignId} and refreshed_at < now() - ${`${KEEP_DAYS} days`}::interval`;
  // Changes every campaign's rows have taken in are no longer needed.
  await tx`
    delete from report_changes c
    where not exists (select 1 from report_caches k where not pg_visible_in_snapshot(c.xid, k.snapshot))`;
  return refresh;
}
