// The channels a worker can send through, built from its settings: email when it has an SMTP
// server, SMS when it has a Twilio account. A batch asks for its wave's channel by name; tests
// hand in channels of their own the same way.
import type { DkimSettings } from '../../config/dkim.ts';
import type { LoadedCampaign, Wave } from '../campaign/campaign-file.ts';
import type { LoadedTemplate } from '../render/templates.ts';
import type { Channel } from './channel.ts';
import { createEmailChannel } from './email-channel.ts';
import { createSmsChannel } from './sms-channel.ts';
import type { TwilioSettings } from './twilio-client.ts';

export interface ChannelRequest {
  campaign: LoadedCampaign;
  wave: Wave;
  /** The wave's template for members of a variant, loaded once per campaign on this worker. */
  template: (variant: string | null) => LoadedTemplate;
}

export type ChannelFactory = (request: ChannelRequest) => Channel;
export type ChannelFactories = Partial<Record<'email' | 'sms', ChannelFactory>>;

export interface ChannelSettings {
  secret: string;
  trackingUrl: string;
  from: string;
  smtpUrl?: string | undefined;
  smtpLookupUrl?: string | undefined;
  /** Signs outgoing email when set (DKIM_* variables). */
  dkim?: DkimSettings | undefined;
  twilio?: (TwilioSettings & { from: string }) | undefined;
}

type Of<C extends LoadedTemplate['channel']> = Extract<LoadedTemplate, { channel: C }>;

export function channelFactoriesFrom(settings: ChannelSettings): ChannelFactories {
  const factories: ChannelFactories = {};
  const { smtpUrl, twilio } = settings;
  if (smtpUrl) {
    factories.email = ({ campaign, template }) =>
      createEmailChannel({
        smtpUrl,
        lookupUrl: settings.smtpLookupUrl,
        from: settings.from,
        campaignSlug: campaign.slug,
        trackingUrl: settings.trackingUrl,
        secret: settings.secret,
        dkim: settings.dkim,
        template: (v) => template(v) as Of<'email'>,
      });
  }
  if (twilio) {
    // Delivery receipts go to the tracking server, which checks Twilio's signature.
    const statusCallbackUrl = `${settings.trackingUrl.replace(/\/+$/, '')}/twilio/status`;
    factories.sms = ({ template }) =>
      createSmsChannel({ twilio, from: twilio.from, statusCallbackUrl, template: (v) => template(v) as Of<'sms'> });
  }
  return factories;
}

/** What a worker without the channel says, naming the setting it lacks. */
export const MISSING_CHANNEL: Record<keyof ChannelFactories, string> = {
  email: 'no SMTP server configured for email waves (SMTP_URL)',
  sms: 'no Twilio account configured for SMS waves (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)',
};
