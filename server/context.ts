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
  /**
   * Twilio's API (https://api.twilio.com) or the sandbox's URL: asked when an inbound message was
   * received, to take STOP and START in the customer's order. Unset, the arrival time stands in.
   */
  twilioApiUrl: string | undefined;
  codes: MemberCodes;
  log: Logger;
}
