// SMS through the real twilio SDK (Twilio, or the local sandbox). Twilio's answers decide the
// outcome: 21211 (not a valid number), 21614 (not a mobile) and 21610 (the recipient replied
// STOP) are permanent for that member; 21610 also suppresses the number. A send interrupted by a
// crash is settled by asking Twilio for messages to the number since the attempt began.
import type { LoadedTemplate } from '../render/templates.ts';
import { renderSms } from '../render/templates.ts';
import { createTwilioClient, type TwilioSettings } from './twilio-client.ts';
import { PermanentSendError, SendNotMadeError, type Channel, type OutgoingMessage } from './channel.ts';

type SmsTemplate = Extract<LoadedTemplate, { channel: 'sms' }>;

const PERMANENT: Record<number, 'invalid_address' | 'sms_stop' | undefined> = {
  21211: 'invalid_address',
  21614: 'invalid_address',
  21610: 'sms_stop',
  21408: undefined,
  21612: undefined,
};

export function createSmsChannel(opts: {
  twilio: TwilioSettings;
  from: string;
  statusCallbackUrl?: string | undefined;
  template: (variant: string | null) => SmsTemplate;
}): Channel {
  const client = createTwilioClient(opts.twilio);
  return {
    name: 'sms',
    async send({ context }: OutgoingMessage) {
      if (!context.customer.phone) throw new PermanentSendError('no phone number', undefined, 'invalid_address');
      const { text } = renderSms(opts.template(context.variant), context);
      try {
        const msg = await client.messages.create({
          to: context.customer.phone,
          from: opts.from,
          body: text,
          ...(opts.statusCallbackUrl ? { statusCallback: opts.statusCallbackUrl } : {}),
        });
        return { providerId: msg.sid };
      } catch (error) {
        const e = error as Error & { status?: number; code?: number | string };
        if (typeof e.code === 'number' && e.code in PERMANENT)
          throw new PermanentSendError(`Twilio ${e.code}: ${e.message}`, e.code, PERMANENT[e.code]);
        if (e.status === 400 || e.status === 401 || e.status === 403)
          throw new SendNotMadeError(`Twilio ${e.status} ${e.code ?? ''}: ${e.message}`);
        if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND')
          throw new SendNotMadeError(`Twilio unreachable: ${e.message}`);
        throw error;
      }
    },
    async recover({ context, since }) {
      if (!context.customer.phone) return 'resend';
      const { text } = renderSms(opts.template(context.variant), context);
      // Newest first; a queued message has no date_sent yet, so compare creation times, with a
      // minute of slack for clock skew between this host and the provider.
      const recent = await client.messages.list({ to: context.customer.phone, limit: 50 });
      const match = recent.find((m) => m.body === text && m.dateCreated.getTime() >= since.getTime() - 60_000);
      return match ? { providerId: match.sid } : 'resend';
    },
    async close() {},
  };
}
