// What every route of the tracking server works with.
import type { Logger } from 'pino';
import type { Sql } from '../db/connection.ts';
import type { MemberCodes } from '../pipeline/responses/member-codes.ts';

export interface TrackingContext {
  sql: Sql;
  /** MAILROOM_SECRET: checks tracking tokens and response codes. */
  secret: string;
  /** MAILROOM_TRACKING_URL, the public base: Twilio signs the URL it posts to. */
  trackingUrl: string;
  /** Twilio's auth token (or the sandbox's); without it the Twilio webhooks answer 403. */
  twilioAuthToken: string | undefined;
  codes: MemberCodes;
  log: Logger;
}
