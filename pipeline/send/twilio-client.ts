// The real `twilio` SDK, pointed at Twilio or at the local sandbox. The SDK builds every request
// as for api.twilio.com; for the sandbox only the scheme and host are swapped, so the SDK's own
// encoding, authentication, retries (429) and error mapping are what the tests exercise.
import twilio from 'twilio';
import type RequestClientType from 'twilio/lib/base/RequestClient.js';

type RequestOptions<TData> = RequestClientType.RequestOptions<TData>;

class SandboxRequestClient extends twilio.RequestClient {
  constructor(private readonly sandboxUrl: string) {
    super();
  }

  override request<TData>(opts: RequestOptions<TData>) {
    const uri = opts.uri.replace(/^https:\/\/[a-z0-9.-]*twilio\.com/, this.sandboxUrl.replace(/\/+$/, ''));
    return super.request<TData>({ ...opts, uri });
  }
}

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** The local sandbox's base URL; undefined talks to Twilio itself. */
  sandboxUrl?: string | undefined;
}

export function createTwilioClient(settings: TwilioSettings) {
  return twilio(settings.accountSid, settings.authToken, {
    autoRetry: true,
    maxRetries: 3,
    ...(settings.sandboxUrl ? { httpClient: new SandboxRequestClient(settings.sandboxUrl) } : {}),
  });
}
