// Personal landing pages: /p/<code>, where a QR code on a letter adds ?src=qr. The code names the
// campaign member (pipeline/responses/member-codes.ts). The page is a template of the campaign
// (pipeline/render/landing.ts), by default the shipped one in the customer's language, showing the
// sender, the member's offer and the next step; never the campaign's internal description. When
// the campaign file has `booking:`, the page offers the branch's open slots and a POST to the same
// address books one (pipeline/calls/booking.ts): the code is the page's scope, the form token ties
// the post to it, and booking again writes nothing new.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TrackingContext } from './context.ts';
import { formFields, html, readBody, sameOrigin, text } from './http.ts';
import { minuteOf, recordResponse } from '../pipeline/responses/record.ts';
import { landingCampaign, renderLanding, type LandingBooking } from '../pipeline/render/landing.ts';
import type { CodeMember } from '../pipeline/responses/member-codes.ts';
import {
  bookVisit,
  bookingOf,
  bookingSettings,
  openSlots,
  slotLabel,
  type BookResult,
} from '../pipeline/calls/booking.ts';
import { checkFormTokenFor, formTokenFor } from '../pipeline/calls/signed-link.ts';

const BOOKING_FORM = 'booking-form';

function bookingPart(ctx: TrackingContext, member: CodeMember, posted: BookResult | null) {
  const settings = bookingSettings(member.spec);
  if (!settings) return undefined;
  return async (locale: string): Promise<LandingBooking> => {
    const now = new Date();
    const booking =
      posted && 'booking' in posted ? posted.booking : await bookingOf(ctx.sql, member.campaignId, member.customerId);
    return {
      csrf: formTokenFor(ctx.secret, BOOKING_FORM, member.slug, member.customerId),
      slots: booking
        ? []
        : (await openSlots(ctx.sql, member.campaignId, settings, { now, locale })).map(({ value, label, left }) => ({
            value,
            label,
            left,
          })),
      booked: booking ? { label: slotLabel(booking.slotAt, settings, locale) } : null,
      just_booked: posted?.status === 'booked',
      refused: posted?.status === 'full' || posted?.status === 'not_offered' ? posted.status : null,
    };
  };
}

export async function landing(
  ctx: TrackingContext,
  req: IncomingMessage,
  res: ServerResponse,
  rawCode: string,
  query: URLSearchParams,
): Promise<void> {
  const method = req.method ?? 'GET';
  const head = method === 'HEAD';
  const fields = method === 'POST' ? formFields(await readBody(req)) : null;
  const member = await ctx.codes.find(rawCode);
  if (!member) return text(res, 404, 'This page does not exist. Check the address on your letter.');
  const kind = query.get('src') === 'qr' ? 'qr_scan' : 'purl_visit';
  let posted: BookResult | null = null;
  if (fields) {
    const settings = bookingSettings(member.spec);
    if (
      !settings ||
      !sameOrigin(req) ||
      !checkFormTokenFor(ctx.secret, BOOKING_FORM, member.slug, member.customerId, fields.csrf ?? '')
    ) {
      ctx.log.warn({ route: '/p', campaignId: member.campaignId }, 'refused a booking post without a valid form token');
      return text(res, 403, 'This form was not sent from your page; open the address on your letter again.');
    }
    const slotAt = new Date(fields.slot ?? '');
    posted = Number.isNaN(slotAt.getTime())
      ? { status: 'not_offered' }
      : await bookVisit(ctx.sql, {
          campaignId: member.campaignId,
          customerId: member.customerId,
          slotAt,
          settings,
        });
    ctx.log.info({ campaignId: member.campaignId, customerId: member.customerId, booking: posted.status }, 'booking');
  } else if (!head) {
    // A QR code is printed on letters only: its scan belongs to the member's latest mail piece.
    const [piece] =
      kind === 'qr_scan'
        ? await ctx.sql<{ id: number }[]>`
          select id from deliveries where campaign_id = ${member.campaignId} and customer_id = ${member.customerId} and channel = 'mail'
          order by coalesce(sent_at, created_at) desc, id desc limit 1`
        : [];
    const written = await recordResponse(ctx.sql, {
      campaignId: member.campaignId,
      customerId: member.customerId,
      deliveryId: piece?.id ?? null,
      kind,
      source: kind === 'qr_scan' ? 'qr' : 'purl',
      // Reloads within a minute count once.
      dedupeKey: `${kind}:${member.campaignId}:${member.customerId}:${minuteOf()}`,
    });
    ctx.log.info(
      { kind, campaignId: member.campaignId, customerId: member.customerId, recorded: written },
      'landing response',
    );
  }
  const booking = bookingPart(ctx, member, posted);
  const page = await renderLanding(
    ctx.sql,
    landingCampaign(member.slug, member.campaignName, member.spec),
    { campaignId: member.campaignId, customerId: member.customerId },
    {
      secret: ctx.secret,
      trackingUrl: ctx.trackingUrl,
      source: kind === 'qr_scan' ? 'qr' : 'purl',
      ...(booking ? { booking } : {}),
    },
  );
  if (!page) return text(res, 404, 'This page does not exist. Check the address on your letter.');
  // The campaign's own page failed (a field not in the data, say): the next one was shown instead.
  for (const problem of page.problems)
    ctx.log.error({ campaignId: member.campaignId, problem }, 'landing template failed; showed the next one');
  html(res, posted?.status === 'full' || posted?.status === 'not_offered' ? 409 : 200, page.html);
}
