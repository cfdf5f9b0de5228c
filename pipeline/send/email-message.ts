// The email as it leaves Mailroom, the same for proofs and for sending: text and HTML parts,
// one-click unsubscribe (RFC 8058), and a Message-ID that names the delivery. The HTML part's
// links and open pixel go through the tracking server (tracking-links.ts). The text part keeps
// its links as written: they are read and often copied by hand, where a long opaque token helps
// nobody, and its main link, the PURL, already lands on the tracking server.
import type { RenderContext } from '../render/context.ts';
import type { RenderedEmail } from '../render/templates.ts';
import { trackEmailHtml, unsubscribeToken } from './tracking-links.ts';

export function emailMessageId(deliveryId: number | string, campaignSlug: string): string {
  return `<d${deliveryId}.${campaignSlug}@mailroom>`;
}

export interface EmailEnvelope {
  from: string;
  messageId: string;
  date?: Date | undefined;
  /** MAILROOM_TRACKING_URL, the installation secret, and the ledger's delivery id (null in a proof). */
  tracking: { url: string; secret: string; delivery: number | null };
}

/**
 * The member's signed unsubscribe link. A context that still names the bare response code
 * (`<base>/u/<code>`, which the tracking server no longer takes: the code is printed on letters)
 * gets the signed token in its place, in the body as in the List-Unsubscribe header.
 */
function signedUnsubscribe(ctx: RenderContext, secret: string): { from: string; to: string } {
  const from = ctx.links.unsubscribe;
  const bare = /^(.*)\/u\/([0-9A-Z]{10})$/.exec(from);
  if (!bare || bare[2] !== ctx.response_code) return { from, to: from };
  return { from, to: `${bare[1]}/u/${unsubscribeToken(secret, ctx.campaign.slug, ctx.customer.id)}` };
}

/** Replaces the bare unsubscribe link wherever it stands whole (not as the start of a longer link). */
function replaceLink(text: string, link: { from: string; to: string }): string {
  if (link.from === link.to) return text;
  const escaped = link.from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`${escaped}(?![0-9A-Za-z._~-])`, 'g'), link.to);
}

export function emailMessage(ctx: RenderContext, rendered: RenderedEmail, envelope: EmailEnvelope) {
  const unsubscribe = signedUnsubscribe(ctx, envelope.tracking.secret);
  const { html } = trackEmailHtml(replaceLink(rendered.html, unsubscribe), {
    baseUrl: envelope.tracking.url,
    secret: envelope.tracking.secret,
    campaign: ctx.campaign.slug,
    code: ctx.response_code,
    delivery: envelope.tracking.delivery,
    unsubscribe: unsubscribe.to,
  });
  return {
    from: envelope.from,
    to: ctx.customer.email ? { name: ctx.customer.full_name, address: ctx.customer.email } : undefined,
    subject: rendered.subject,
    text: replaceLink(rendered.text, unsubscribe),
    html,
    messageId: envelope.messageId,
    ...(envelope.date ? { date: envelope.date } : {}),
    headers: {
      'List-Unsubscribe': `<${unsubscribe.to}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
