// Sending through the deliveries ledger: a row per (campaign, wave, customer, channel) is written
// 'pending' before the provider call and 'sent' or 'failed' after it. A retried batch skips rows
// already decided. A 'pending' row left by a crash cannot tell by itself whether the provider took
// the message; the channel settles it (see Channel.recover): the provider is asked (SMS), or the
// message goes again under the same idempotency key (email: the same Message-ID). A channel that
// can do neither leaves the row 'uncertain' and does not send again. Every such row is counted.
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

/** Hands out send slots at most `ratePerSecond` a second. */
function pacer(ratePerSecond: number | undefined): () => Promise<void> {
  if (!ratePerSecond) return async () => {};
  const interval = 1000 / ratePerSecond;
  let next = Date.now();
  return async () => {
    const now = Date.now();
    const at = Math.max(next, now);
    next = at + interval;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  };
}

/** Messages in flight per batch, and per group: one 'pending' statement and one 'sent' statement each. */
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
  const pace = pacer(deps.ratePerSecond);
  const work: { row: Row; deliveryId?: number }[] = [];
  for (const row of rows) {
    if (row.delivery_status === 'pending') {
      result.uncertain++;
      const settled = await recover(row);
      if (settled === 'resend') work.push({ row, deliveryId: row.delivery_id! });
    } else if (row.delivery_status) result.skipped++;
    else if (row.reason) result.suppressed++;
    else if (deps.defer?.(row)) result.deferred++;
    else work.push({ row });
  }
  let transient: unknown;
  type Item = { row: Row; deliveryId?: number };
  type Outcome =
    | { row: Row; skipped: true }
    | ({ row: Row; id: number; deliveryId?: number | undefined } & ({ providerId: string } | { error: unknown }));
  /**
   * One group of messages: each waits for its rate-limit slot, then all go 'pending' in one
   * statement (one commit), then all are handed to the channel, then the sent ones are recorded
   * in one statement. So every message's 'pending' row is committed before its provider call and
   * its outcome before the batch reports success, as when written one by one; a crash between the
   * two leaves this group's rows pending, which a retry settles (recover) like any interrupted send.
   */
  const sendGroup = async (group: Item[]) => {
    // Rows go pending only once their rate-limit slot has come: a crash then leaves pending only
    // messages that were really on their way.
    for (let i = 0; i < group.length; i++) await pace();
    if (deps.signal?.aborted) return;
    const fresh = group.filter((w) => w.deliveryId === undefined).map((w) => w.row.customer_id);
    const made = fresh.length ? await insertPending(sql, key, fresh) : [];
    const ids = new Map(made.map((d) => [d.customer_id, d.id]));
    const outcomes = await Promise.all(
      group.map(async ({ row, deliveryId }): Promise<Outcome> => {
        const id = deliveryId ?? ids.get(row.customer_id);
        if (id === undefined) return { row, skipped: true }; // another run of this batch got there first
        try {
          const { providerId } = await channel.send({ deliveryId: id, context: deps.context(row) });
          return { row, id, deliveryId, providerId };
        } catch (error) {
          return { row, id, deliveryId, error };
        }
      }),
    );
    const sent = outcomes.flatMap((o) => ('providerId' in o ? [o] : []));
    if (sent.length) {
      try {
        await markSent(sql, sent);
        result.sent += sent.length;
      } catch (error) {
        transient ??= error; // sent, but still pending in the ledger: a retry settles them (recover)
      }
    }
    for (const o of outcomes) {
      if ('skipped' in o) result.skipped++;
      if (!('error' in o)) continue;
      const { row, id, deliveryId, error } = o;
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
        if (deliveryId === undefined) await forgetPending(sql, id);
        transient ??= error;
      } else {
        transient ??= error; // unknown outcome: the row stays pending and a retry marks it uncertain
      }
    }
    deps.heartbeat?.(result); // throttled by the SDK; frequent beats let a cancellation arrive soon
  };
  /** Settles a row left pending by an interrupted send; 'resend' when it must go again under the same key. */
  async function recover(row: Row): Promise<'resend' | 'settled'> {
    const id = row.delivery_id!;
    const outcome = channel.recover
      ? await channel.recover({ deliveryId: id, context: deps.context(row), since: row.delivery_created_at! })
      : 'unknown';
    if (outcome === 'unknown') {
      await markUncertain(sql, id);
      return 'settled';
    }
    if (outcome === 'resend') {
      await markResent(sql, id);
      return 'resend';
    }
    await markFound(sql, id, outcome.providerId);
    result.sent++;
    return 'settled';
  }

  // Bounded concurrency: up to `limit` messages in flight, in groups. The channel's connection
  // pool, not one connection, sets the pace. Under a rate limit a group is about 50 ms of the rate,
  // so that it is no burst (and at ten a second or less, messages go one by one).
  const limit = deps.concurrency ?? CONCURRENCY;
  const size = Math.max(
    1,
    Math.min(limit, GROUP_SIZE, deps.ratePerSecond ? Math.floor(deps.ratePerSecond / 20) : Infinity),
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(Math.ceil(limit / size), Math.ceil(work.length / size)) }, async () => {
      while (next < work.length && !transient && !deps.signal?.aborted)
        await sendGroup(work.slice(next, (next += size)));
    }),
  );
  deps.heartbeat?.(result);
  if (transient) throw transient;
  result.totals = await rangeTotals(sql, key, spec);
  return result;
}
