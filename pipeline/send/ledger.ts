// Sending through the deliveries ledger: a row per (campaign, wave, customer, channel) is written
// 'pending' before the provider call and 'sent' or 'failed' after it. A retried batch skips rows
// already decided. A 'pending' row left by a crash cannot tell by itself whether the provider took
// the message; the channel settles it (see Channel.recover): the provider is asked (SMS), or the
// message goes again under the same idempotency key (email: the same Message-ID). A channel that
// can do neither leaves the row 'uncertain' and does not send again. Every such row is counted.
//
// A batch holds at most `concurrency` messages in flight, a row left pending by an earlier attempt
// counting as one from its lookup on; those rows are settled before any new message starts. So a
// crash leaves at most `concurrency` rows pending per batch that was running, however often the
// batch has been interrupted before. On its first failure a batch starts nothing new, waits for
// what is in flight, and only then fails: an attempt that has ended writes nothing more.
import type { Sql } from '../../db/connection.ts';
import type { MemberRow, RenderContext } from '../render/context.ts';
import { suppressionReason } from '../audience/suppression.ts';
import { MEMBER_COLUMNS } from '../render/members.ts';
import type { Fragment } from '../audience/compile.ts';
import { PermanentSendError, SendNotMadeError, type Channel } from './channel.ts';
import {
  forgetPending,
  insertPending,
  markFailed,
  markFound,
  markResent,
  markSent,
  markUncertain,
  rangeDeliveries,
  rangeTotals,
  type RangeTotals,
} from './deliveries.ts';

export type { RangeTotals };

export interface BatchSpec {
  campaignId: number;
  wave: string;
  /** Customer id range, inclusive: the workflow hands out ranges, never customer data. */
  fromCustomerId: number;
  toCustomerId: number;
}

export interface BatchResult {
  planned: number;
  sent: number;
  failed: number;
  /** Found pending after an interrupted send (settled by the channel's recovery, or left uncertain). */
  uncertain: number;
  /** Already decided by an earlier run of this batch. */
  skipped: number;
  /** Not contactable on this wave's channel (no address, no consent, suppressed). */
  suppressed: number;
  /** Held back for now (quiet hours in the customer's time zone): for a later batch, never dropped. */
  deferred: number;
  /**
   * The range's standing in the ledger after this call, whichever attempt decided each row: what
   * progress reports, so that a batch retried after a crash is counted in full, once.
   */
  totals: RangeTotals;
}

export interface BatchDeps {
  sql: Sql;
  channel: Channel;
  context: (row: MemberRow) => RenderContext;
  /** Messages per second for this batch; unlimited when undefined. */
  ratePerSecond?: number | undefined;
  concurrency?: number;
  heartbeat?: (progress: BatchResult) => void;
  asOf?: Date;
  /** True for members who must not be contacted yet (e.g. inside their quiet hours). */
  defer?: (row: MemberRow) => boolean;
  /** Aborted when the batch is cancelled: no new message is started after that. */
  signal?: AbortSignal;
  /** Which contactable members the wave is for (a condition over campaign_members m, customers c). */
  target?: Fragment;
}

type Row = MemberRow & {
  delivery_id: number | null;
  delivery_status: string | null;
  delivery_created_at: Date | null;
  reason: string | null;
};

/** A member to send to; `pendingId` when an interrupted send left the member's row pending. */
type Item = { row: Row; pendingId?: number };

/**
 * Hands out send slots at most `ratePerSecond` a second. A wait for a slot ends early when
 * `stopping` resolves: a batch that is failing or cancelled does not sit out slots it will not use.
 */
function pacer(ratePerSecond: number | undefined, stopping: Promise<void>): () => Promise<void> {
  if (!ratePerSecond) return async () => {};
  const interval = 1000 / ratePerSecond;
  let next = Date.now();
  return async () => {
    const now = Date.now();
    const at = Math.max(next, now);
    next = at + interval;
    if (at <= now) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((r) => (timer = setTimeout(r, at - now))), stopping]);
    clearTimeout(timer);
  };
}

/**
 * Messages in flight per batch (from the commit of a message's 'pending' row, or the lookup of one
 * an interrupted send left pending, to the commit of its outcome), and per group: one 'pending'
 * statement and one 'sent' statement each.
 */
const CONCURRENCY = 32;
const GROUP_SIZE = 16;

export async function sendBatch(spec: BatchSpec, deps: BatchDeps): Promise<BatchResult> {
  const { sql, channel } = deps;
  const reason = suppressionReason(sql, channel.name, deps.asOf ?? new Date(), undefined);
  const members = (await sql`
    select m.customer_id, ${MEMBER_COLUMNS(sql)}, m.rank, m.band, m.variant, ${reason} as reason
    from campaign_members m
    join customers c on c.id = m.customer_id
    where m.campaign_id = ${spec.campaignId} and m.customer_id between ${spec.fromCustomerId} and ${spec.toCustomerId}
      and m.suppression_reason is null and not m.holdout and ${deps.target ?? sql`true`}
    order by m.customer_id`) as unknown as (MemberRow & { reason: string | null })[];
  // The range's ledger rows, read apart from the members. Joined to them in one query, a plan made
  // on the statistics of a snapshot taken moments before (one row, says the planner) scans the
  // wave's deliveries once per member: seconds per batch, growing as the wave goes on.
  const key = { campaignId: spec.campaignId, wave: spec.wave, channel: channel.name };
  const ledger = new Map((await rangeDeliveries(sql, key, spec)).map((d) => [d.customer_id, d]));
  const rows: Row[] = members.map((m) => {
    const d = ledger.get(m.customer_id);
    return {
      ...m,
      delivery_id: d?.id ?? null,
      delivery_status: d?.status ?? null,
      delivery_created_at: d?.created_at ?? null,
    };
  });
  const result: BatchResult = {
    planned: rows.length,
    sent: 0,
    failed: 0,
    uncertain: 0,
    skipped: 0,
    suppressed: 0,
    deferred: 0,
    totals: { sent: 0, failed: 0, uncertain: 0, recovered: 0 },
  };
  // Rows an interrupted send left pending come first: they are settled (and resent, where that is
  // the way) before any new message starts, so that a retried batch never holds more pending rows
  // than it has slots.
  const recovering: Item[] = [];
  const fresh: Item[] = [];
  for (const row of rows) {
    if (row.delivery_status === 'pending') {
      result.uncertain++;
      recovering.push({ row, pendingId: row.delivery_id! });
    } else if (row.delivery_status) result.skipped++;
    else if (row.reason) result.suppressed++;
    else if (deps.defer?.(row)) result.deferred++;
    else fresh.push({ row });
  }
  const work = [...recovering, ...fresh];

  /** The first failure of any lane: from then on no lane starts anything new, and the batch fails once all are done. */
  let failed = false;
  let failure: unknown;
  let stop = () => {};
  const stopping = new Promise<void>((r) => (stop = r));
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    failure = error;
    stop();
  };
  const stopped = () => failed || deps.signal?.aborted === true;
  const onAbort = () => stop();
  deps.signal?.addEventListener('abort', onAbort);
  const pace = pacer(deps.ratePerSecond, stopping);

  type Sending = { row: Row; id: number; resent: boolean };
  type Outcome = Sending & ({ providerId: string } | { error: unknown });
  /**
   * One group of messages, each holding one of the batch's slots from its first write to its
   * outcome's: rows left pending by an interrupted send are settled with the channel first; then
   * each message waits for its rate-limit slot; then the new ones go 'pending' in one statement
   * (one commit) and the settled ones to be sent again are marked in one more; then all are handed
   * to the channel, and the sent ones are recorded in one statement. So every message's 'pending'
   * row is committed before its provider call and its outcome before the batch reports success,
   * as when written one by one; a crash between the two leaves this group's rows pending, which a
   * retry settles like any interrupted send.
   */
  const sendGroup = async (group: Item[]) => {
    const lookups = await Promise.allSettled(
      group.flatMap((w) => (w.pendingId === undefined ? [] : [recover(w.row, w.pendingId)])),
    );
    for (const l of lookups) if (l.status === 'rejected') fail(l.reason);
    const resend = new Set(
      lookups.flatMap((l) => (l.status === 'fulfilled' && l.value !== 'settled' ? [l.value] : [])),
    );
    const toSend = group.filter((w) => (w.pendingId === undefined ? true : resend.has(w.pendingId)));
    if (!toSend.length) return;
    // Rows go pending only once their rate-limit slot has come, and not at all once the batch is
    // stopping: a crash then leaves pending only messages that were really on their way.
    for (let i = 0; i < toSend.length; i++) await pace();
    if (stopped()) return;
    const newIds = toSend.flatMap((w) => (w.pendingId === undefined ? [w.row.customer_id] : []));
    const made = newIds.length ? await insertPending(sql, key, newIds) : [];
    const again = resend.size ? new Set(await markResent(sql, [...resend])) : new Set<number>();
    const ids = new Map(made.map((d) => [d.customer_id, d.id]));
    const sending: Sending[] = [];
    for (const { row, pendingId } of toSend) {
      if (pendingId !== undefined) {
        if (again.has(pendingId)) sending.push({ row, id: pendingId, resent: true });
        continue; // settled meanwhile by another run of this batch
      }
      const id = ids.get(row.customer_id);
      // No id: another run of this batch got there first.
      if (id === undefined) result.skipped++;
      else sending.push({ row, id, resent: false });
    }
    const outcomes = await Promise.all(
      sending.map(async (s): Promise<Outcome> => {
        try {
          const { providerId } = await channel.send({ deliveryId: s.id, context: deps.context(s.row) });
          return { ...s, providerId };
        } catch (error) {
          return { ...s, error };
        }
      }),
    );
    const sent = outcomes.flatMap((o) => ('providerId' in o ? [o] : []));
    if (sent.length) {
      await markSent(sql, sent); // if this fails, the rows stay pending: the retry settles them
      result.sent += sent.length;
    }
    for (const o of outcomes) {
      if (!('error' in o)) continue;
      const { row, id, resent, error } = o;
      if (error instanceof PermanentSendError) {
        await markFailed(sql, id, error.message);
        const address = channel.name === 'email' ? row.email?.toLowerCase() : channel.name === 'sms' ? row.phone : null;
        if (error.suppress && address) {
          await sql`insert into suppressions (channel, address, reason, source)
                    values (${channel.name}, ${address}, ${error.suppress}, ${`delivery:${id}`})
                    on conflict on constraint suppressions_key do nothing`;
        }
        result.failed++;
      } else if (error instanceof SendNotMadeError) {
        // Nothing left the building: forget the row so that the retry sends it (a resent row
        // stays pending: its first attempt may still have reached the provider).
        if (!resent) await forgetPending(sql, id);
        fail(error);
      } else {
        fail(error); // unknown outcome: the row stays pending and the retry settles it
      }
    }
  };
  /** Asks the channel about a row an interrupted send left pending; its id when it must go again under the same key. */
  async function recover(row: Row, id: number): Promise<number | 'settled'> {
    const outcome = channel.recover
      ? await channel.recover({ deliveryId: id, context: deps.context(row), since: row.delivery_created_at! })
      : 'unknown';
    if (outcome === 'unknown') {
      await markUncertain(sql, id);
      return 'settled';
    }
    if (outcome === 'resend') return id;
    await markFound(sql, id, outcome.providerId);
    result.sent++;
    return 'settled';
  }

  // Bounded concurrency: lanes whose groups add up to exactly `limit` slots, so that at most
  // `limit` messages are in flight (and pending) at once. The channel's connection pool, not one
  // connection, sets the pace. Under a rate limit a group is about 50 ms of the rate, so that it is
  // no burst (and at ten a second or less, messages go one by one).
  const limit = Math.max(1, deps.concurrency ?? CONCURRENCY);
  const size = Math.max(
    1,
    Math.min(limit, GROUP_SIZE, deps.ratePerSecond ? Math.floor(deps.ratePerSecond / 20) : Infinity),
  );
  const lanes: number[] = [];
  for (let left = limit; left > 0 && lanes.length * size < work.length; left -= size) lanes.push(Math.min(size, left));
  let next = 0;
  // A lane never rejects: its failure stops the others from starting anything new, and the batch
  // settles only when every lane has finished what it had in flight. Nothing this attempt started
  // is left to write to the ledger once it has failed (and its channel has been closed).
  await Promise.all(
    lanes.map(async (width) => {
      while (next < work.length && !stopped()) {
        const group = work.slice(next, (next += width));
        try {
          await sendGroup(group);
        } catch (error) {
          fail(error);
        }
        deps.heartbeat?.(result); // throttled by the SDK; frequent beats let a cancellation arrive soon
      }
    }),
  );
  deps.signal?.removeEventListener('abort', onAbort);
  deps.heartbeat?.(result);
  if (failed) throw failure;
  result.totals = await rangeTotals(sql, key, spec);
  return result;
}
