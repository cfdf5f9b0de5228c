// A local stand-in for Twilio's Messages API that the real `twilio` SDK talks to: it checks the
// account's credentials, answers like Twilio (201 with a message resource, or Twilio's error
// codes: 21211 invalid 'To', 21610 recipient unsubscribed), keeps every message in
// .mailroom/sms-outbox/, and posts status callbacks signed with X-Twilio-Signature.
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import twilio from 'twilio';
import { smsSegments } from '../pipeline/render/sms-segments.ts';
import { preferredPort } from '../config/ports.ts';

export interface SandboxMessage {
  sid: string;
  account_sid: string;
  to: string;
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
  status: string;
  num_segments: string;
  date_created: string;
  status_callback: string | null;
}

export interface TwilioSandbox {
  url: string;
  accountSid: string;
  authToken: string;
  outbox: string;
  messages: Map<string, SandboxMessage>;
  /** Numbers that replied STOP: sending to them fails with 21610, as on Twilio. */
  stopped: Set<string>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function twilioError(res: ServerResponse, status: number, code: number, message: string): void {
  send(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

/** Posts one signed status callback, as Twilio does, to the message's StatusCallback URL. */
async function postCallback(authToken: string, msg: SandboxMessage, status: string): Promise<void> {
  if (!msg.status_callback) return;
  const params: Record<string, string> = {
    AccountSid: msg.account_sid,
    MessageSid: msg.sid,
    SmsSid: msg.sid,
    MessageStatus: status,
    SmsStatus: status,
    To: msg.to,
    From: msg.from ?? '',
    ApiVersion: '2010-04-01',
  };
  const signature = twilio.getExpectedTwilioSignature(authToken, msg.status_callback, params);
  await fetch(msg.status_callback, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  }).catch(() => {}); // Twilio does not retry a failed callback either
}

export async function startTwilioSandbox(
  outbox: string,
  opts: { accountSid?: string; authToken?: string; port?: number; callbackDelayMs?: number } = {},
): Promise<TwilioSandbox> {
  mkdirSync(outbox, { recursive: true });
  const accountSid = opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = opts.authToken ?? randomBytes(16).toString('hex');
  const messages = new Map<string, SandboxMessage>();
  // Messages of earlier runs stay known, as they would at Twilio.
  const log = join(outbox, 'messages.jsonl');
  if (existsSync(log)) {
    for (const line of readFileSync(log, 'utf8').split('\n'))
      if (line.trim()) {
        const msg = JSON.parse(line) as SandboxMessage;
        messages.set(msg.sid, msg);
      }
  }
  const stopped = new Set<string>();
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const base = `/2010-04-01/Accounts/${accountSid}/Messages`;

  const server = createServer(async (req, res) => {
    if (req.headers.authorization !== expectedAuth) return twilioError(res, 401, 20003, 'Authenticate');
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'POST' && path === `${base}.json`) {
      const form = new URLSearchParams(await readBody(req));
      const to = form.get('To') ?? '';
      const body = form.get('Body') ?? '';
      if (!/^\+[1-9]\d{6,14}$/.test(to))
        return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      if (!form.get('From') && !form.get('MessagingServiceSid'))
        return twilioError(
          res,
          400,
          21603,
          "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
        );
      if (!body) return twilioError(res, 400, 21602, 'Message body is required.');
      if (stopped.has(to)) return twilioError(res, 400, 21610, 'Attempt to send to unsubscribed recipient');
      const msg: SandboxMessage = {
        sid: `SM${randomBytes(16).toString('hex')}`,
        account_sid: accountSid,
        to,
        from: form.get('From'),
        messaging_service_sid: form.get('MessagingServiceSid'),
        body,
        status: 'queued',
        num_segments: String(smsSegments(body).segments),
        date_created: new Date().toUTCString(),
        status_callback: form.get('StatusCallback'),
      };
      messages.set(msg.sid, msg);
      appendFileSync(log, `${JSON.stringify(msg)}\n`);
      send(res, 201, { ...msg, uri: `${base}/${msg.sid}.json` });
      setTimeout(async () => {
        msg.status = 'sent';
        await postCallback(authToken, msg, 'sent');
        msg.status = 'delivered';
        await postCallback(authToken, msg, 'delivered');
      }, opts.callbackDelayMs ?? 50);
      return;
    }
    if (req.method === 'GET' && path === `${base}.json`) {
      // The list the SDK pages through, newest first, filtered by To as Twilio does.
      const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      const to = query.get('To');
      const size = Math.min(Number(query.get('PageSize') ?? 50) || 50, 1000);
      const list = [...messages.values()]
        .filter((m) => !to || m.to === to)
        .reverse()
        .slice(0, size);
      return send(res, 200, {
        messages: list.map((m) => ({ ...m, uri: `${base}/${m.sid}.json` })),
        page: 0,
        page_size: size,
        start: 0,
        end: Math.max(list.length - 1, 0),
        uri: req.url,
        first_page_uri: req.url,
        next_page_uri: null,
        previous_page_uri: null,
      });
    }
    const one = new RegExp(`^${base}/(SM[0-9a-f]{32})\\.json$`).exec(path);
    if (req.method === 'GET' && one) {
      const msg = messages.get(one[1]!);
      return msg
        ? send(res, 200, { ...msg, uri: `${base}/${msg.sid}.json` })
        : twilioError(res, 404, 20404, 'The requested resource was not found');
    }
    return twilioError(res, 404, 20404, 'The requested resource was not found');
  });
  const port = opts.port ?? (await preferredPort(8099));
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    outbox,
    messages,
    stopped,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
