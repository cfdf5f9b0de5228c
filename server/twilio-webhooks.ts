// Twilio's webhooks: message status callbacks (/twilio/status; the SMS channel asks for them on
// every message) and inbound messages (/twilio/inbound; set it as the number's "A message comes
// in" webhook). Both are signed with X-Twilio-Signature over the public URL Twilio posted to and
// the form fields; anything else is refused with 403. After the signature is checked, control
// characters are stripped from every field (webhookFields): a NUL in a signed Body, From or
// ErrorCode would otherwise fail every write (PostgreSQL takes no NUL in text or jsonb) and the
// message would be lost to retries answered 503.
import type { IncomingMessage, ServerResponse } from 'node:http';
import twilio from 'twilio';
import type { TrackingContext } from './context.ts';
import { text, twiml } from './http.ts';
import { recordResponse } from '../pipeline/responses/record.ts';
import type { Sql } from '../db/connection.ts';

/** The URL Twilio signed: the public base (MAILROOM_TRACKING_URL) and the path and query as received. */
export function publicUrl(trackingUrl: string, requestUrl: string): string {
  const base = new URL(trackingUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  // A proxy may pass the base's path on (…/track/twilio/status) or strip it (/twilio/status).
  return prefix && requestUrl.startsWith(`${prefix}/`)
    ? `${base.origin}${requestUrl}`
    : `${base.origin}${prefix}${requestUrl}`;
}

export function signedByTwilio(ctx: TrackingContext, req: IncomingMessage, params: Record<string, string>): boolean {
  if (!ctx.twilioAuthToken) return false;
  const signature = req.headers['x-twilio-signature'];
  if (typeof signature !== 'string' || !signature) return false;
  return twilio.validateRequest(ctx.twilioAuthToken, signature, publicUrl(ctx.trackingUrl, req.url ?? '/'), params);
}

// Twilio's opt-out keywords, and the ones Chinese senders print ("回T退订", "回TD退订").
const STOP = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPTOUT',
  'REVOKE',
  'T',
  'TD',
  '退订',
]);
const START = new Set(['START', 'UNSTOP', 'YES']);
const HELP = new Set(['HELP', 'INFO']);

/** STOP, START, HELP or null for other text: the whole message is the keyword, case and punctuation aside. */
export function smsKeyword(body: string): 'stop' | 'start' | 'help' | null {
  const word = body
    .normalize('NFKC')
    .trim()
    .replace(/[\s\p{P}]+/gu, '')
    .toUpperCase();
  if (STOP.has(word)) return 'stop';
  if (START.has(word)) return 'start';
  if (HELP.has(word)) return 'help';
  return null;
}

// C0 controls but tab, line feed and carriage return (an SMS may hold lines), DEL, and C1 controls.
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

/** The fields of a signed webhook with control characters stripped: what is stored and compared. */
export function webhookFields(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k.replace(CONTROLS, ''), v.replace(CONTROLS, '')]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ledger row of a Twilio message. A callback can beat the ledger's write of the sid by a moment, so look a few times. */
async function deliveryBySid(ctx: TrackingContext, sid: string) {
  for (const wait of [0, 100, 300, 600, 1000]) {
    if (wait) await sleep(wait);
    const [row] = await ctx.sql<{ id: number; campaign_id: number; customer_id: number }[]>`
      select id, campaign_id, customer_id from deliveries where provider_id = ${sid} and channel = 'sms'`;
    if (row) return row;
  }
  return undefined;
}

export async function statusCallback(
  ctx: TrackingContext,
  res: ServerResponse,
  signed: Record<string, string>,
): Promise<void> {
  const params = webhookFields(signed);
  const sid = params.MessageSid ?? params.SmsSid;
  const status = params.MessageStatus ?? params.SmsStatus;
  if (!sid || !status) return text(res, 400, 'MessageSid and MessageStatus are required.');
  // queued, sending, sent, … are steps on the way; only the outcome is a response.
  const kind = status === 'delivered' ? 'delivered' : status === 'undelivered' || status === 'failed' ? 'bounce' : null;
  if (kind) {
    const d = await deliveryBySid(ctx, sid);
    if (!d) {
      ctx.log.warn({ sid, status }, 'status callback for a message that is not in the ledger; not recorded');
    } else {
      // The ledger keeps 'sent' (Twilio took the message); the outcome is a response beside it.
      const written = await recordResponse(ctx.sql, {
        campaignId: d.campaign_id,
        customerId: d.customer_id,
        deliveryId: d.id,
        kind,
        source: 'twilio',
        dedupeKey: `twilio-status:${sid}:${status}`,
        details: { status, ...(params.ErrorCode ? { error_code: params.ErrorCode } : {}) },
      });
      ctx.log.info({ kind, status, campaignId: d.campaign_id, deliveryId: d.id, recorded: written }, 'sms status');
    }
  }
  res.writeHead(204);
  res.end();
}

/** The latest SMS this number was sent: what a reply answers. */
async function latestSmsTo(ctx: TrackingContext, phone: string) {
  const [row] = await ctx.sql<{ id: number; campaign_id: number; customer_id: number }[]>`
    select d.id, d.campaign_id, d.customer_id from deliveries d join customers c on c.id = d.customer_id
    where c.phone = ${phone} and d.channel = 'sms' and d.status = 'sent'
    order by d.sent_at desc nulls last, d.id desc limit 1`;
  return row;
}

const TWILIO_SID = /^(?:SM|MM)[0-9a-f]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;

/**
 * When Twilio received an inbound message (the message resource's date_created), asked of
 * Twilio's Messages API (or the sandbox's) with the account's auth token; null when no API is
 * configured or it does not answer within a few seconds: the time the message reached this
 * server then stands in for it.
 */
async function twilioReceivedAt(ctx: TrackingContext, accountSid: string, sid: string): Promise<Date | null> {
  if (!ctx.twilioApiUrl || !ctx.twilioAuthToken || !ACCOUNT_SID.test(accountSid) || !TWILIO_SID.test(sid)) return null;
  const url = `${ctx.twilioApiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`;
  try {
    const res = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${ctx.twilioAuthToken}`).toString('base64')}` },
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) {
      ctx.log.warn(
        { sid, status: res.status },
        'Twilio did not say when it received an inbound message; using the arrival time',
      );
      return null;
    }
    const created = new Date(String(((await res.json()) as { date_created?: unknown }).date_created));
    return Number.isNaN(created.getTime()) ? null : created;
  } catch (error) {
    ctx.log.warn(
      { sid, err: (error as Error).message },
      'could not ask Twilio when it received an inbound message; using the arrival time',
    );
    return null;
  }
}

interface InboundOutcome {
  /** False when this MessageSid was taken already: a retry or a replay, which changes nothing. */
  first: boolean;
  /** For STOP and START: whether it decided the number's opt-out (false when a later STOP or START already had). */
  applied: boolean;
  /** How many sms_stop suppressions a START removed. */
  removed: number;
  recorded: boolean;
  delivery: { id: number; campaign_id: number; customer_id: number } | undefined;
}

/**
 * One inbound message, once: the sms_inbound row by MessageSid decides whether it is new, and
 * everything it does happens in the same transaction. Messages of one number are taken one at a
 * time (an advisory lock on the number), and STOP or START changes the opt-out only when no later
 * STOP or START of the number is known: whatever order their webhooks arrive in, the customer's
 * last word counts.
 */
async function takeInbound(
  ctx: TrackingContext,
  m: { sid: string; from: string; body: string; keyword: ReturnType<typeof smsKeyword>; receivedAt: Date | null },
): Promise<InboundOutcome> {
  const d = m.keyword === 'start' || m.keyword === 'help' ? undefined : await latestSmsTo(ctx, m.from);
  return ctx.sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${`mailroom-sms-inbound:${m.from}`}, 0))`;
    // A message recorded as a response before sms_inbound existed counts as taken too.
    const [row] = await tx<{ id: number; received_at: Date }[]>`
      insert into sms_inbound (message_sid, phone, keyword, received_at, clock)
      select ${m.sid}, ${m.from}, ${m.keyword}, coalesce(${m.receivedAt}::timestamptz, now()), ${m.receivedAt ? 'twilio' : 'arrival'}
      where not exists (select 1 from responses where dedupe_key = ${`twilio-in:${m.sid}`})
      on conflict (message_sid) do nothing
      returning id, received_at`;
    const outcome: InboundOutcome = { first: Boolean(row), applied: false, removed: 0, recorded: false, delivery: d };
    if (!row) return outcome;
    if (m.keyword === 'stop' || m.keyword === 'start') {
      const [later] = await tx`
        select 1 from sms_inbound
        where phone = ${m.from} and keyword in ('stop', 'start') and id <> ${row.id}
          and (received_at > ${row.received_at} or (received_at = ${row.received_at} and id > ${row.id}))
        limit 1`;
      outcome.applied = !later;
      if (outcome.applied && m.keyword === 'stop') {
        await tx`
          insert into suppressions (channel, address, reason, source) values ('sms', ${m.from}, 'sms_stop', ${`twilio:${m.sid}`})
          on conflict on constraint suppressions_key do nothing`;
      }
      if (outcome.applied && m.keyword === 'start') {
        // Opted in again: the number, and the customers with it, may get SMS again.
        const removed = await tx`
          delete from suppressions where channel = 'sms' and reason = 'sms_stop'
          and (address = ${m.from} or customer_id in (select id from customers where phone = ${m.from}))`;
        outcome.removed = removed.count;
      }
    }
    if (m.keyword === 'start' || m.keyword === 'help') return outcome;
    const kind = m.keyword === 'stop' ? 'sms_stop' : 'sms_reply';
    outcome.recorded = await recordResponse(tx as unknown as Sql, {
      campaignId: d?.campaign_id ?? null,
      customerId: d?.customer_id ?? null,
      deliveryId: d?.id ?? null,
      kind,
      source: 'twilio',
      dedupeKey: `twilio-in:${m.sid}`,
      details: kind === 'sms_reply' ? { sid: m.sid, body: m.body.slice(0, 1600) } : { sid: m.sid },
    });
    return outcome;
  });
}

export async function inboundMessage(
  ctx: TrackingContext,
  res: ServerResponse,
  signed: Record<string, string>,
): Promise<void> {
  const params = webhookFields(signed);
  const sid = params.MessageSid ?? params.SmsSid;
  const from = params.From;
  if (!sid || !from) return text(res, 400, 'MessageSid and From are required.');
  const body = params.Body ?? '';
  const keyword = smsKeyword(body);
  const receivedAt = await twilioReceivedAt(ctx, params.AccountSid ?? '', sid);
  const o = await takeInbound(ctx, { sid, from, body, keyword, receivedAt });
  ctx.log.info(
    {
      sid,
      keyword,
      first: o.first,
      ...(keyword === 'stop' || keyword === 'start' ? { applied: o.applied } : {}),
      ...(keyword === 'start' ? { removed: o.removed } : {}),
      campaignId: o.delivery?.campaign_id ?? null,
      deliveryId: o.delivery?.id ?? null,
      recorded: o.recorded,
    },
    'sms inbound',
  );
  twiml(res);
}
