// The embedded SMTP server: accepts every message on 127.0.0.1 and keeps it as an .eml file in
// .mailroom/outbox/, named by its Message-ID. A second message with the same Message-ID is kept
// beside the first (…​.2.eml), never over it, so a duplicate send is always visible. Like an email
// provider's API, it answers whether it accepted a Message-ID (GET /messages/<id> on lookupUrl),
// which is how a crashed send is settled without sending twice.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { preferredPort } from '../config/ports.ts';

export interface SmtpSink {
  url: string;
  /** Message lookup: GET {lookupUrl}/messages/{Message-ID} → 200 accepted, 404 not. */
  lookupUrl: string;
  port: number;
  outbox: string;
  close(): Promise<void>;
}

const fileBase = (messageId: string) =>
  messageId
    .replace(/^<|>$/g, '')
    .replace(/[^\w.@-]+/g, '_')
    .slice(0, 180);

function fileName(outbox: string, message: Buffer): string {
  const head =
    message
      .subarray(0, 64 * 1024)
      .toString('utf8')
      .split(/\r?\n\r?\n/)[0] ?? '';
  const id = /^message-id:\s*<?([^>\r\n]+)>?/im.exec(head)?.[1] ?? `no-id-${Date.now()}`;
  const base = fileBase(id);
  let name = `${base}.eml`;
  for (let n = 2; existsSync(join(outbox, name)); n++) name = `${base}.${n}.eml`;
  return name;
}

function startLookup(outbox: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const m = /^\/messages\/([^/?]+)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) {
      res.writeHead(404).end();
      return;
    }
    const file = `${fileBase(decodeURIComponent(m[1]!))}.eml`;
    const found = existsSync(join(outbox, file));
    res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(found ? { accepted: true, file } : { accepted: false }));
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen(server));
  });
}

export async function startSmtpSink(
  outbox: string,
  opts: { port?: number; lookupPort?: number; rejectRecipients?: RegExp } = {},
): Promise<SmtpSink> {
  mkdirSync(outbox, { recursive: true });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    banner: 'Mailroom SMTP sink',
    // Closing does not wait half a minute for idle pooled connections.
    closeTimeout: 1000,
    // Recipients matching `rejectRecipients` get a hard bounce (550), to test bounce handling.
    onRcptTo(address, _session, callback) {
      if (opts.rejectRecipients?.test(address.address)) {
        const error = new Error(`5.1.1 <${address.address}>: mailbox unavailable`) as Error & { responseCode: number };
        error.responseCode = 550;
        return callback(error);
      }
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const message = Buffer.concat(chunks);
        writeFileSync(join(outbox, fileName(outbox, message)), message);
        callback();
      });
    },
  });
  // A client that vanishes mid-message (a worker killed, a connection reset) must not take the sink down.
  server.on('error', () => {});
  const port = opts.port ?? (await preferredPort(2525));
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen());
  });
  const lookupPort = opts.lookupPort ?? (opts.port === undefined ? await preferredPort(2580) : 0);
  const lookup = await startLookup(outbox, lookupPort);
  return {
    url: `smtp://127.0.0.1:${port}`,
    lookupUrl: `http://127.0.0.1:${(lookup.address() as AddressInfo).port}`,
    port,
    outbox,
    close: async () => {
      lookup.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
