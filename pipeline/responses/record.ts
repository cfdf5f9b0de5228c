// The responses table: every write to it is here. One row per event, its dedupe key deciding what counts as the same event
// (a retried webhook, a double click), so every write can be repeated safely.
import type { Sql } from '../../db/connection.ts';
import type { Fragment } from '../audience/compile.ts';

/** Kinds that happen away from the tracking server and come in by `mailroom import responses`. */
export const IMPORTED_KINDS = ['coupon_redemption', 'branch_visit', 'call_outcome', 'order', 'appointment'] as const;
export type ImportedKind = (typeof IMPORTED_KINDS)[number];

export type ResponseKind =
  | 'open'
  | 'click'
  | 'purl_visit'
  | 'qr_scan'
  | 'unsubscribe'
  | 'sms_reply'
  | 'sms_stop'
  | 'delivered'
  | 'bounce'
  | ImportedKind;

export interface ResponseEvent {
  campaignId: number | null;
  customerId: number | null;
  deliveryId: number | null;
  kind: ResponseKind;
  source: string;
  dedupeKey: string;
  details?: Record<string, unknown>;
}

/** True when the row was written, false when an event with the same key was already recorded. */
export async function recordResponse(sql: Sql, e: ResponseEvent): Promise<boolean> {
  const rows = await sql`
    insert into responses (campaign_id, customer_id, delivery_id, kind, source, dedupe_key, occurred_at, details)
    values (${e.campaignId}, ${e.customerId}, ${e.deliveryId}, ${e.kind}, ${e.source}, ${e.dedupeKey}, now(), ${sql.json((e.details ?? {}) as never)})
    on conflict (dedupe_key) do nothing returning id`;
  return rows.length > 0;
}

/**
 * Many responses at once from a query whose columns are, in order: campaign_id, customer_id,
 * delivery_id, kind, source, dedupe_key, occurred_at. Returns how many were new.
 */
export async function insertResponsesFrom(sql: Sql, rows: Fragment): Promise<number> {
  const result = await sql`
    insert into responses (campaign_id, customer_id, delivery_id, kind, source, dedupe_key, occurred_at)
    ${rows}
    on conflict (dedupe_key) do nothing`;
  return result.count;
}

/**
 * Imported responses from a query whose columns are n (the row's number in its file),
 * campaign_id, customer_id, kind, source, dedupe_key, occurred_at, value, details. Of rows sharing a
 * dedupe key only the first (lowest n) is written, and none whose key is already recorded.
 * Returns the n of each row written.
 */
export async function insertImportedResponses(sql: Sql, rows: Fragment): Promise<number[]> {
  const written = await sql<{ n: number }[]>`
    with src as (${rows}),
    firsts as (select distinct on (dedupe_key) * from src order by dedupe_key, n),
    inserted as (
      insert into responses (campaign_id, customer_id, kind, source, dedupe_key, occurred_at, value, details)
      select campaign_id, customer_id, kind, source, dedupe_key, occurred_at, value, details from firsts order by n
      on conflict (dedupe_key) do nothing
      returning dedupe_key
    )
    select f.n from firsts f join inserted i on i.dedupe_key = f.dedupe_key`;
  return written.map((r) => r.n);
}

/** The current UTC minute, e.g. 2026-12-01T09:15: repeats of an event within it count once. */
export function minuteOf(date = new Date()): string {
  return date.toISOString().slice(0, 16);
}
