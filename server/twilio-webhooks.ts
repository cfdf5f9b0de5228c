// Twilio's webhooks: message status callbacks (/twilio/status; the SMS channel asks for them on
// every message) and inbound messages (/twilio/inbound; set it as the number's "A message comes
// in" webhook). Both are signed with X-Twilio-Signature over the public URL Twilio posted to and
// the form fields; anything else is refused with 403.
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
  params: Record<string, string>,
): Promise<void> {
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

export async function inboundMessage(
  ctx: TrackingContext,
  res: ServerResponse,
  params: Record<string, string>,
): Promise<void> {
  const sid = params.MessageSid ?? params.SmsSid;
  const from = params.From;
  if (!sid || !from) return text(res, 400, 'MessageSid and From are required.');
  const body = params.Body ?? '';
  const keyword = smsKeyword(body);
  if (keyword === 'start') {
    // Opted in again: the number, and the customers with it, may get SMS again.
    const removed = await ctx.sql`
      delete from suppressions where channel = 'sms' and reason = 'sms_stop'
      and (address = ${from} or customer_id in (select id from customers where phone = ${from}))`;
    ctx.log.info({ sid, keyword, removed: removed.count }, 'sms keyword');
    return twiml(res);
  }
  if (keyword === 'help') {
    ctx.log.info({ sid, keyword }, 'sms keyword');
    return twiml(res);
  }
  const d = await latestSmsTo(ctx, from);
  const kind = keyword === 'stop' ? 'sms_stop' : 'sms_reply';
  const written = await ctx.sql.begin(async (tx) => {
    if (kind === 'sms_stop') {
      await tx`
        insert into suppressions (channel, address, reason, source) values ('sms', ${from}, 'sms_stop', ${`twilio:${sid}`})
        on conflict on constraint suppressions_key do nothing`;
    }
    return recordResponse(tx as unknown as Sql, {
      campaignId: d?.campaign_id ?? null,
      customerId: d?.customer_id ?? null,
      deliveryId: d?.id ?? null,
      kind,
      source: 'twilio',
      dedupeKey: `twilio-in:${sid}`,
      details: kind === 'sms_reply' ? { sid, body: body.slice(0, 1600) } : { sid },
    });
  });
  ctx.log.info(
    { sid, kind, campaignId: d?.campaign_id ?? null, deliveryId: d?.id ?? null, recorded: written },
    'sms inbound',
  );
  twiml(res);
}
