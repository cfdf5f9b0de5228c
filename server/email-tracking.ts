// Clicks (/c/<token>) and opens (/o/<token>.gif) of tracked email. The token is signed and names
// the campaign, the member's code, the delivery and (for a click) the target URL, so the redirect
// needs no lookup; the delivery row gives the campaign and customer to record against. A token
// without a delivery comes from a proof: it redirects (or shows the pixel) and records nothing.
// The person always gets their redirect or pixel, also when the database cannot take the event.
import type { ServerResponse } from 'node:http';
import { readTrackingToken } from '../pipeline/send/tracking-links.ts';
import type { TrackingContext } from './context.ts';
import { pixel, redirect, text } from './http.ts';
import { minuteOf, recordResponse } from '../pipeline/responses/record.ts';

async function deliveryOf(ctx: TrackingContext, id: number, slug: string) {
  const [row] = await ctx.sql<{ id: number; campaign_id: number; customer_id: number }[]>`
    select d.id, d.campaign_id, d.customer_id from deliveries d join campaigns c on c.id = d.campaign_id
    where d.id = ${id} and c.slug = ${slug}`;
  return row;
}

async function recordTracked(
  ctx: TrackingContext,
  kind: 'click' | 'open',
  slug: string,
  deliveryId: number,
  link: number | null,
): Promise<void> {
  try {
    const d = await deliveryOf(ctx, deliveryId, slug);
    if (!d) {
      ctx.log.warn({ kind, deliveryId }, 'tracked event for a delivery that is not in the ledger; not recorded');
      return;
    }
    // Repeats within a minute (a double click, a mail scanner and the person, a reload) count once.
    const dedupeKey = `${kind}:${d.id}${link === null ? '' : `:${link}`}:${minuteOf()}`;
    const written = await recordResponse(ctx.sql, {
      campaignId: d.campaign_id,
      customerId: d.customer_id,
      deliveryId: d.id,
      kind,
      source: 'email',
      dedupeKey,
      ...(link === null ? {} : { details: { link } }),
    });
    ctx.log.info(
      { kind, campaignId: d.campaign_id, deliveryId: d.id, ...(link === null ? {} : { link }), recorded: written },
      'email response',
    );
  } catch (error) {
    ctx.log.error({ kind, deliveryId, err: (error as Error).message }, 'could not record an email response');
  }
}

export async function click(ctx: TrackingContext, res: ServerResponse, token: string, head: boolean): Promise<void> {
  const event = readTrackingToken(ctx.secret, token);
  if (!event || event.kind !== 'click') return text(res, 404, 'This link is not valid.');
  // HEAD is what link checkers send before a person clicks: redirect, count nothing.
  if (!head && event.delivery !== null) await recordTracked(ctx, 'click', event.campaign, event.delivery, event.link);
  redirect(res, event.url);
}

export async function open(ctx: TrackingContext, res: ServerResponse, token: string, head: boolean): Promise<void> {
  const event = readTrackingToken(ctx.secret, token);
  if (!event || event.kind !== 'open') return text(res, 404, 'Not found.');
  if (!head && event.delivery !== null) await recordTracked(ctx, 'open', event.campaign, event.delivery, null);
  pixel(res, head);
}
