// The email as it leaves Mailroom, the same for proofs and for sending: text and HTML parts,
// one-click unsubscribe (RFC 8058), and a Message-ID that names the delivery. The HTML part's
// links and open pixel go through the tracking server (tracking-links.ts). The text part keeps
// its links as written: they are read and often copied by hand, where a long opaque token helps
// nobody, and its main link, the PURL, already lands on the tracking server.
import type { RenderContext } from '../render/context.ts';
import type { RenderedEmail } from '../render/templates.ts';
import { trackEmailHtml } from './tracking-links.ts';

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

export function emailMessage(ctx: RenderContext, rendered: RenderedEmail, envelope: EmailEnvelope) {
  const { html } = trackEmailHtml(rendered.html, {
    baseUrl: envelope.tracking.url,
    secret: envelope.tracking.secret,
    campaign: ctx.campaign.slug,
    code: ctx.response_code,
    delivery: envelope.tracking.delivery,
    unsubscribe: ctx.links.unsubscribe,
  });
  return {
    from: envelope.from,
    to: ctx.customer.email ? { name: ctx.customer.full_name, address: ctx.customer.email } : undefined,
    subject: rendered.subject,
    text: rendered.text,
    html,
    messageId: envelope.messageId,
    ...(envelope.date ? { date: envelope.date } : {}),
    headers: {
      'List-Unsubscribe': `<${ctx.links.unsubscribe}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
