// Email through nodemailer over SMTP with a connection pool. SMTP answers decide the outcome:
// 5xx is permanent for this recipient, 4xx and refused connections mean nothing was sent.
// A send interrupted by a crash is settled by asking the provider's message lookup, when there is
// one (SMTP_LOOKUP_URL; the embedded sink has one), else by sending again under the same
// Message-ID, which mailbox providers treat as the same message. With DKIM settings, nodemailer
// signs each message before it leaves.
import nodemailer from 'nodemailer';
import type { DkimSettings } from '../../config/dkim.ts';
import type { LoadedTemplate } from '../render/templates.ts';
import { renderEmail } from '../render/templates.ts';
import { emailMessage, emailMessageId } from './email-message.ts';
import { PermanentSendError, SendNotMadeError, type Channel, type OutgoingMessage } from './channel.ts';

type EmailTemplate = Extract<LoadedTemplate, { channel: 'email' }>;

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ESOCKET']);

export interface EmailChannelOptions {
  smtpUrl: string;
  from: string;
  campaignSlug: string;
  template: (variant: string | null) => EmailTemplate;
  maxConnections?: number;
  /** GET {lookupUrl}/messages/{Message-ID} answers 200 if the server accepted it, 404 if not. */
  lookupUrl?: string | undefined;
  /** MAILROOM_TRACKING_URL: links and the open pixel in the HTML part point there. */
  trackingUrl: string;
  /** The installation secret that signs tracking tokens. */
  secret: string;
  dkim?: DkimSettings | undefined;
}

/** nodemailer's transport option for DKIM signing, shared with tests that build a message without a server. */
export function dkimOption(dkim: DkimSettings | undefined): { dkim?: DkimSettings } {
  return dkim
    ? { dkim: { domainName: dkim.domainName, keySelector: dkim.keySelector, privateKey: dkim.privateKey } }
    : {};
}

export function createEmailChannel(opts: EmailChannelOptions): Channel {
  // Unsigned tracking tokens could be forged; refuse before anything is sent rather than per message.
  if (!opts.secret)
    throw new Error('the email channel needs the installation secret (MAILROOM_SECRET) to sign tracking links');
  const transport = nodemailer.createTransport({
    url: opts.smtpUrl,
    pool: true,
    maxConnections: opts.maxConnections ?? 5,
    maxMessages: Infinity,
    ...dkimOption(opts.dkim),
  } as never);
  return {
    name: 'email',
    async send({ deliveryId, context }: OutgoingMessage) {
      const rendered = renderEmail(opts.template(context.variant), context);
      try {
        const message = emailMessage(context, rendered, {
          from: opts.from,
          messageId: emailMessageId(deliveryId, opts.campaignSlug),
          tracking: { url: opts.trackingUrl, secret: opts.secret, delivery: deliveryId },
        });
        const info = await transport.sendMail(message);
        return { providerId: info.messageId };
      } catch (error) {
        const e = error as Error & { responseCode?: number; code?: string; command?: string };
        // 550/551/553: the mailbox does not exist — a hard bounce, never worth another try.
        if (e.responseCode && e.responseCode >= 500) {
          throw new PermanentSendError(
            `SMTP ${e.responseCode}: ${e.message}`,
            e.responseCode,
            [550, 551, 553].includes(e.responseCode) ? 'hard_bounce' : undefined,
          );
        }
        if ((e.responseCode && e.responseCode >= 400) || (e.code && NOT_SENT.has(e.code) && e.command === 'CONN')) {
          throw new SendNotMadeError(`SMTP ${e.responseCode ?? e.code}: ${e.message}`);
        }
        throw error;
      }
    },
    async recover({ deliveryId }) {
      if (!opts.lookupUrl) return 'resend';
      const messageId = emailMessageId(deliveryId, opts.campaignSlug);
      const res = await fetch(`${opts.lookupUrl.replace(/\/+$/, '')}/messages/${encodeURIComponent(messageId)}`);
      if (res.status === 200) return { providerId: messageId };
      if (res.status === 404) return 'resend';
      throw new Error(`message lookup answered ${res.status} for ${messageId}`);
    },
    async close() {
      transport.close();
    },
  };
}
