// The tracking and webhook HTTP server: clicks, opens, PURL and QR landings, unsubscribe, and
// Twilio's status and inbound-message webhooks, each written to `responses` idempotently. It
// keeps nothing in memory that matters (everything is in PostgreSQL), so any number of them can
// run behind a load balancer. `mailroom dev` runs one on 127.0.0.1; `mailroom server` runs one alone.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Sql } from '../db/connection.ts';
import type { TrackingContext } from './context.ts';
import { click, open } from './email-tracking.ts';
import { BodyTooLarge, formFields, readBody, text } from './http.ts';
import { landing } from './landing.ts';
import { unsubscribePage } from './unsubscribe.ts';
import { callsPage } from './calls-page.ts';
import { visitPage } from './visit-page.ts';
import { memberCodes } from '../pipeline/responses/member-codes.ts';
import { inboundMessage, signedByTwilio, statusCallback } from './twilio-webhooks.ts';

export interface TrackingServerOptions {
  sql: Sql;
  secret: string;
  trackingUrl: string;
  twilioAuthToken?: string | undefined;
  /** Where to ask when Twilio received an inbound message: https://api.twilio.com, or the sandbox's URL. */
  twilioApiUrl?: string | undefined;
  log: Logger;
}

export interface TrackingServer {
  /** Where it listens, e.g. http://127.0.0.1:8088 (not necessarily the public URL). */
  url: string;
  port: number;
  close(): Promise<void>;
}

function allow(res: ServerResponse, methods: string): void {
  res.setHeader('allow', methods);
  text(res, 405, `Use ${methods.split(', ').join(' or ')}.`);
}

async function route(ctx: TrackingContext, prefix: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const head = method === 'HEAD';
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  let path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  // Behind a proxy that keeps the public URL's path (https://example.com/track/…), drop it.
  if (prefix && path.startsWith(`${prefix}/`)) path = path.slice(prefix.length);
  const [, first, second, ...rest] = path.split('/');
  const readable = method === 'GET' || head;

  if (path === '/health') {
    if (!readable) return allow(res, 'GET, HEAD');
    const ok = await ctx.sql`select 1`.then(
      () => true,
      () => false,
    );
    return text(res, ok ? 200 : 503, ok ? 'ok' : 'database unavailable');
  }
  if (first === 'twilio' && (second === 'status' || second === 'inbound') && !rest.length) {
    if (method !== 'POST') return allow(res, 'POST');
    const params = formFields(await readBody(req));
    if (!signedByTwilio(ctx, req, params)) {
      ctx.log.warn({ route: `/twilio/${second}` }, 'refused a webhook without a valid Twilio signature');
      return text(
        res,
        403,
        ctx.twilioAuthToken
          ? 'Invalid Twilio signature.'
          : 'Twilio webhooks are not configured here (TWILIO_AUTH_TOKEN).',
      );
    }
    return second === 'status' ? statusCallback(ctx, res, params) : inboundMessage(ctx, res, params);
  }
  if (first === 'calls' && second && !rest.length) return callsPage(ctx, req, res, second, query);
  if (first === 'visit' && second && !rest.length) return visitPage(ctx, req, res, second);
  if (second && !rest.length) {
    if (first === 'p') {
      if (!readable && method !== 'POST') return allow(res, 'GET, HEAD, POST');
      return landing(ctx, req, res, second, query);
    }
    if (first === 'c' || first === 'o') {
      if (!readable) return allow(res, 'GET, HEAD');
      if (first === 'c') return click(ctx, res, second, head);
      return second.endsWith('.gif') ? open(ctx, res, second, head) : text(res, 404, 'Not found.');
    }
    if (first === 'u') {
      if (!readable && method !== 'POST') return allow(res, 'GET, HEAD, POST');
      return unsubscribePage(ctx, req, res, second);
    }
  }
  text(res, 404, 'Not found.');
}

export function trackingHandler(opts: TrackingServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const log = opts.log;
  const prefix = new URL(opts.trackingUrl).pathname.replace(/\/+$/, '');
  const ctx: TrackingContext = {
    sql: opts.sql,
    secret: opts.secret,
    trackingUrl: opts.trackingUrl,
    twilioAuthToken: opts.twilioAuthToken,
    twilioApiUrl: opts.twilioApiUrl,
    codes: memberCodes(opts.sql, opts.secret, log),
    log,
  };
  return (req, res) => {
    route(ctx, prefix, req, res).catch((error: unknown) => {
      if (error instanceof BodyTooLarge) {
        // readBody keeps reading (and dropping) the rest, so the client gets this answer rather
        // than a reset; the connection then closes.
        if (!res.headersSent) {
          res.setHeader('connection', 'close');
          text(res, 413, 'Request body too large.');
        }
        return;
      }
      // Never the input's fault by now (every route checks its input first): the database, most likely.
      log.error({ route: (req.url ?? '').split('/')[1], err: (error as Error).message }, 'request failed');
      if (!res.headersSent) text(res, 503, 'Temporarily unavailable; please try again.');
      else res.end();
    });
  };
}

export async function startTrackingServer(
  opts: TrackingServerOptions & { port: number; host: string },
): Promise<TrackingServer> {
  const server = createServer(trackingHandler(opts));
  // Slow or stuck clients must not pile up connections (a load balancer keeps its own alive).
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    port,
    close: () =>
      new Promise((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
