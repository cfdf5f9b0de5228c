// Starting the tracking server with its own database connection: `mailroom server` in
// production, and the embedded stack in development (which also decides its port and URL).
import type { Logger } from 'pino';
import { DEFAULT_TRACKING_URL, trackingUrlIsSet, type Env } from '../config/env.ts';
import { ExitCode, UserError } from '../config/errors.ts';
import { connectDatabase } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { preferredPort } from '../config/ports.ts';
import { checkStoredCodes } from '../pipeline/responses/member-codes.ts';
import { startTrackingServer, type TrackingServer } from './tracking-server.ts';

export interface RunServerOptions {
  databaseUrl: string;
  secret: string;
  /** The public base URL (MAILROOM_TRACKING_URL): Twilio signs requests for it. */
  trackingUrl: string;
  twilioAuthToken?: string | undefined;
  /**
   * Twilio's API (https://api.twilio.com) or the sandbox's URL, asked when Twilio received an
   * inbound message (STOP and START count in that order); unset, the time it reaches the server counts.
   */
  twilioApiUrl?: string | undefined;
  port: number;
  host: string;
  log: Logger;
}

export interface RunningTrackingServer extends TrackingServer {
  stop(): Promise<void>;
}

export async function runTrackingServer(opts: RunServerOptions): Promise<RunningTrackingServer> {
  const sql = connectDatabase(opts.databaseUrl, { max: 10, application: 'mailroom-tracking' });
  try {
    await migrate(sql);
    const mismatch = await checkStoredCodes(sql, opts.secret);
    if (mismatch) throw new UserError(mismatch, ExitCode.badInput);
    const server = await startTrackingServer({
      sql,
      secret: opts.secret,
      trackingUrl: opts.trackingUrl,
      twilioAuthToken: opts.twilioAuthToken,
      twilioApiUrl: opts.twilioApiUrl,
      log: opts.log,
      port: opts.port,
      host: opts.host,
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        throw new UserError(
          `port ${opts.port} on ${opts.host} is taken; choose another (MAILROOM_TRACKING_PORT, or --port of \`mailroom server\`)`,
          ExitCode.unavailable,
        );
      throw error;
    });
    if (!opts.twilioAuthToken) opts.log.warn('no TWILIO_AUTH_TOKEN: the Twilio webhooks answer 403 until it is set');
    opts.log.info({ listen: server.url }, 'tracking server listening');
    return {
      ...server,
      async stop() {
        await server.close();
        await sql.end({ timeout: 5 });
      },
    };
  } catch (error) {
    await sql.end({ timeout: 5 });
    throw error;
  }
}

export interface DevTrackingPlan {
  port: number;
  /** The URL messages use: MAILROOM_TRACKING_URL when given, else this server's. */
  url: string;
  /** Whether MAILROOM_TRACKING_URL was given (the worker then reads it itself). */
  urlGiven: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Where `mailroom dev` runs its tracking server: MAILROOM_TRACKING_PORT; else the port of a
 * loopback MAILROOM_TRACKING_URL (http://127.0.0.1:9000 means that port); else 8088, or a free
 * port when 8088 is taken (the worker is then told the URL).
 */
export async function devTrackingPlan(
  env: Env,
  taken: number[] = [],
  source: NodeJS.ProcessEnv = process.env,
): Promise<DevTrackingPlan> {
  const urlGiven = trackingUrlIsSet(source);
  if (env.MAILROOM_TRACKING_PORT) {
    return {
      port: env.MAILROOM_TRACKING_PORT,
      url: urlGiven ? env.MAILROOM_TRACKING_URL : `http://127.0.0.1:${env.MAILROOM_TRACKING_PORT}`,
      urlGiven,
    };
  }
  if (urlGiven) {
    const u = new URL(env.MAILROOM_TRACKING_URL);
    if (u.protocol === 'http:' && LOOPBACK.has(u.hostname))
      return { port: Number(u.port || 80), url: env.MAILROOM_TRACKING_URL, urlGiven };
    // A public URL (a tunnel, say) that forwards here: the port is ours to choose.
    return {
      port: await preferredPort(Number(new URL(DEFAULT_TRACKING_URL).port), taken),
      url: env.MAILROOM_TRACKING_URL,
      urlGiven,
    };
  }
  const port = await preferredPort(Number(new URL(DEFAULT_TRACKING_URL).port), taken);
  return { port, url: `http://127.0.0.1:${port}`, urlGiven };
}
