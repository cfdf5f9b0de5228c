import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioClient } from '../../pipeline/send/twilio-client.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../dev/twilio-sandbox.ts';
import { anyFreePort } from '../../config/ports.ts';
import { tempDir } from '../helpers/csv.ts';

describe('embedded SMTP sink', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink(join(tempDir(), 'outbox'), { port: await anyFreePort() });
  });
  afterAll(() => sink.close());

  it('keeps every message nodemailer sends as an .eml named by Message-ID, and a duplicate beside it', async () => {
    const transport = nodemailer.createTransport({ url: sink.url, pool: true, maxConnections: 2 } as never);
    const send = (id: string, subject: string) =>
      transport.sendMail({
        from: 'Mailroom <m@example.com>',
        to: '王晓明 <wang@example.com>',
        subject,
        text: '您好',
        html: '<p>您好</p>',
        messageId: `<${id}@mailroom.test>`,
      });
    await Promise.all([send('d-1', '第一封'), send('d-2', 'second')]);
    await send('d-1', 'the same delivery again');
    transport.close();
    expect(readdirSync(sink.outbox).sort()).toEqual([
      'd-1@mailroom.test.2.eml',
      'd-1@mailroom.test.eml',
      'd-2@mailroom.test.eml',
    ]);
    const eml = readFileSync(join(sink.outbox, 'd-2@mailroom.test.eml'), 'utf8');
    expect(eml).toMatch(/^Subject: second$/m);
    expect(eml).toMatch(/multipart\/alternative/);
  });
});

describe('Twilio sandbox with the real twilio SDK', () => {
  let sandbox: TwilioSandbox;
  let receiver: ReturnType<typeof createServer>;
  let callbackUrl: string;
  const callbacks: { valid: boolean; params: Record<string, string> }[] = [];

  beforeAll(async () => {
    sandbox = await startTwilioSandbox(join(tempDir(), 'sms'), { port: await anyFreePort(), callbackDelayMs: 10 });
    const port = await anyFreePort();
    callbackUrl = `http://127.0.0.1:${port}/sms/status`;
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(body));
        const valid = twilio.validateRequest(
          sandbox.authToken,
          String(req.headers['x-twilio-signature']),
          callbackUrl,
          params,
        );
        callbacks.push({ valid, params });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    await sandbox.close();
    receiver.close();
  });

  it('accepts a message like Twilio, keeps it, and posts signed sent and delivered callbacks', async () => {
    const client = createTwilioClient({
      accountSid: sandbox.accountSid,
      authToken: sandbox.authToken,
      sandboxUrl: sandbox.url,
    });
    const msg = await client.messages.create({
      to: '+8613912345678',
      from: '+15005550006',
      body: '【财富管理月】王先生，本月预约即可领取专属礼品。',
      statusCallback: callbackUrl,
    });
    expect(msg.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(msg.status).toBe('queued');
    expect(msg.numSegments).toBe('1');
    expect(sandbox.messages.get(msg.sid)!.body).toContain('王先生');
    expect(readFileSync(join(sandbox.outbox, 'messages.jsonl'), 'utf8')).toContain(msg.sid);
    const fetched = await client.messages(msg.sid).fetch();
    expect(fetched.to).toBe('+8613912345678');
    for (let i = 0; i < 100 && callbacks.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(callbacks.map((c) => [c.params.MessageSid, c.params.MessageStatus, c.valid])).toEqual([
      [msg.sid, 'sent', true],
      [msg.sid, 'delivered', true],
    ]);
  });

  it("answers with Twilio's error codes, which the SDK raises as RestException", async () => {
    const client = createTwilioClient({
      accountSid: sandbox.accountSid,
      authToken: sandbox.authToken,
      sandboxUrl: sandbox.url,
    });
    await expect(client.messages.create({ to: '13912345678', from: '+15005550006', body: 'x' })).rejects.toMatchObject({
      status: 400,
      code: 21211,
    });
    sandbox.stopped.add('+8613800000000');
    await expect(
      client.messages.create({ to: '+8613800000000', from: '+15005550006', body: 'x' }),
    ).rejects.toMatchObject({ status: 400, code: 21610 });
    const wrong = createTwilioClient({ accountSid: sandbox.accountSid, authToken: 'nope', sandboxUrl: sandbox.url });
    await expect(
      wrong.messages.create({ to: '+8613912345678', from: '+15005550006', body: 'x' }),
    ).rejects.toMatchObject({ status: 401, code: 20003 });
  });
});
