// Email through nodemailer over SMTP with a connection pool. SMTP answers decide the outcome:
// 5xx is permanent for this recipient, 4xx and refused connections mean nothing was sent.
import nodemailer from 'nodemailer';
import type { LoadedTemplate } from '../render/templates.ts';
import { renderEmail } from '../render/templates.ts';
import { emailMessage, emailMessageId } from './email-message.ts';
import { PermanentSendError, SendNotMadeError, type Channel, type OutgoingMessage } from './channel.ts';

type EmailTemplate = Extract<LoadedTemplate, { channel: 'email' }>;

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ESOCKET']);

export function createEmailChannel(opts: { smtpUrl: string; from: string; campaignSlug: string; template: (variant: string | null) => EmailTemplate; maxConnections?: number }): Channel {
  const transport = nodemailer.createTransport({ url: opts.smtpUrl, pool: true, maxConnections: opts.maxConnections ?? 5, maxMessages: Infinity } as never);
  return {
    name: 'email',
    async send({ deliveryId, context }: OutgoingMessage) {
      const rendered = renderEmail(opts.template(context.variant), context);
      try {
        const info = await transport.sendMail(emailMessage(context, rendered, opts.from, emailMessageId(deliveryId, opts.campaignSlug)));
        return { providerId: info.messageId };
      } catch (error) {
        const e = error as Error & { responseCode?: number; code?: string; command?: string };
        // 550/551/553: the mailbox does not exist — a hard bounce, never worth another try.
        if (e.responseCode && e.responseCode >= 500) {
          throw new PermanentSendError(`SMTP ${e.responseCode}: ${e.message}`, e.responseCode, [550, 551, 553].includes(e.responseCode) ? 'hard_bounce' : undefined);
        }
        if ((e.responseCode && e.responseCode >= 400) || (e.code && NOT_SENT.has(e.code) && e.command === 'CONN')) {
          throw new SendNotMadeError(`SMTP ${e.responseCode ?? e.code}: ${e.message}`);
        }
        throw error;
      }
    },
    async close() {
      transport.close();
    },
  };
}
