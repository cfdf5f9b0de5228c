// Personal landing pages: /p/<code>, where a QR code on a letter adds ?src=qr. The code names the
// campaign member (pipeline/responses/member-codes.ts). The page is a template of the campaign
// (pipeline/render/landing.ts), by default the shipped one in the customer's language, showing the
// sender, the member's offer and the next step; never the campaign's internal description.
import type { ServerResponse } from 'node:http';
import type { TrackingContext } from './context.ts';
import { html, text } from './http.ts';
import { minuteOf, recordResponse } from '../pipeline/responses/record.ts';
import { landingCampaign, renderLanding } from '../pipeline/render/landing.ts';

export async function landing(
  ctx: TrackingContext,
  res: ServerResponse,
  rawCode: string,
  query: URLSearchParams,
  head: boolean,
): Promise<void> {
  const member = await ctx.codes.find(rawCode);
  if (!member) return text(res, 404, 'This page does not exist. Check the address on your letter.');
  const kind = query.get('src') === 'qr' ? 'qr_scan' : 'purl_visit';
  if (!head) {
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
  const page = await renderLanding(
    ctx.sql,
    landingCampaign(member.slug, member.campaignName, member.spec),
    { campaignId: member.campaignId, customerId: member.customerId },
    { secret: ctx.secret, trackingUrl: ctx.trackingUrl, source: kind === 'qr_scan' ? 'qr' : 'purl' },
  );
  if (!page) return text(res, 404, 'This page does not exist. Check the address on your letter.');
  // The campaign's own page failed (a field not in the data, say): the next one was shown instead.
  for (const problem of page.problems)
    ctx.log.error({ campaignId: member.campaignId, problem }, 'landing template failed; showed the next one');
  html(res, 200, page.html);
}
