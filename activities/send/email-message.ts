// The email as it leaves Mailroom, the same for proofs and for sending: text and HTML parts,
// one-click unsubscribe (RFC 8058), and a Message-ID that names the delivery.
import type { RenderContext } from '../render/context.ts';
import type { RenderedEmail } from '../render/templates.ts';

export function emailMessageId(deliveryId: number | string, campaignSlug: string): string {
  return `<d${deliveryId}.${campaignSlug}@mailroom>`;
}

export function emailMessage(ctx: RenderContext, rendered: RenderedEmail, from: string, messageId: string, date?: Date) {
  return {
    from,
    to: ctx.customer.email ? { name: ctx.customer.full_name, address: ctx.customer.email } : undefined,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    messageId,
    ...(date ? { date } : {}),
    headers: { 'List-Unsubscribe': `<${ctx.links.unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  };
}
