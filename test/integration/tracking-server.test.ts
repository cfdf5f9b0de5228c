// The tracking server on a real PostgreSQL, fed by real messages: email sent through the ledger to
// the SMTP sink (its tracked links, open pixel and List-Unsubscribe header are what is requested)
// and SMS sent with the real twilio SDK through the sandbox, whose signed status callbacks come
// to the server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseCode } from '../../pipeline/render/codes.ts';
import { contextFor } from '../../pipeline/render/context.ts';
import { loadTemplate, resolveTemplateDir } from '../../pipeline/render/templates.ts';
import { createEmailChannel } from '../../pipeline/send/email-channel.ts';
import { sendBatch } from '../../pipeline/send/ledger.ts';
import { createSmsChannel } from '../../pipeline/send/sms-channel.ts';
import { clickToken, openToken, unsubscribeToken } from '../../pipeline/send/tracking-links.ts';
import type { LoadedCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../dev/twilio-sandbox.ts';
import { runTrackingServer, type RunningTrackingServer } from '../../server/run-server.ts';
import { smsKeyword } from '../../server/twilio-webhooks.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const SECRET = 'tracking-test-secret';
const OFFER = '电饭煲 & <茶具>';
const SPEC = {
  file: 'wealth.yaml',
  text: `name: wealth\ntitle: 财富管理月 <b>2026</b>\noffers:\n  A: "${OFFER}"\n  B: 保温杯\n`,
};
const PEOPLE = [
  {
    ext: 'T1',
    name: '王晓明',
    family: '王',
    gender: 'male',
    email: 'wang@example.com',
    phone: '+8613800000001',
    locale: 'zh-CN',
    band: 'A',
  },
  {
    ext: 'T2',
    name: '李娜',
    family: '李',
    gender: 'female',
    email: 'li@example.com',
    phone: '+8613800000002',
    locale: 'zh-CN',
    band: 'B',
  },
  {
    ext: 'T3',
    name: 'Emma Wright',
    family: 'Wright',
    gender: 'female',
    email: 'emma@example.com',
    phone: '+447700900003',
    locale: 'en-GB',
    band: 'A',
  },
];

/** The HTML part of an .eml the sink kept (nodemailer writes it quoted-printable). */
function htmlPart(eml: string): string {
  const m = /Content-Type: text\/html[^]*?Content-Transfer-Encoding: quoted-printable\r?\n\r?\n([^]*?)\r?\n--/.exec(
    eml,
  );
  if (!m) throw new Error('no quoted-printable HTML part');
  const bytes = m[1]!
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

describe('tracking server', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let sandbox: TwilioSandbox;
  let server: RunningTrackingServer;
  let base: string;
  let campaignId: number;
  const ids: Record<string, number> = {};
  const emails: Record<string, { deliveryId: number; html: string; unsubscribe: string }> = {};
  const logLines: string[] = [];
  const outbox = join(tempDir(), 'outbox');

  const get = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { redirect: 'manual', ...init });
  const responses = (kind?: string) =>
    db.sql<
      {
        kind: string;
        campaign_id: number | null;
        customer_id: number | null;
        delivery_id: number | null;
        source: string;
        details: Record<string, unknown>;
      }[]
    >`
      select kind, campaign_id, customer_id, delivery_id, source, details from responses where ${kind ? db.sql`kind = ${kind}` : db.sql`true`} order by id`;
  const count = async () => Number((await db.sql<{ n: number }[]>`select count(*)::int as n from responses`)[0]!.n);
  const codeOf = (ext: string) => responseCode(SECRET, 'wealth', ids[ext]!);
  const pathOf = (url: string) => url.slice(base.length);
  const signed = (path: string, params: Record<string, string>, token = sandbox.authToken) =>
    get(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(token, `${base}${path}`, params),
      },
      body: new URLSearchParams(params).toString(),
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(outbox, { port: await anyFreePort() });
    sandbox = await startTwilioSandbox(join(tempDir(), 'sms'), { port: await anyFreePort(), callbackDelayMs: 10 });
    const port = await anyFreePort();
    base = `http://127.0.0.1:${port}`;
    const logs = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        logLines.push(chunk.toString());
        done();
      },
    });
    server = await runTrackingServer({
      databaseUrl: db.url,
      secret: SECRET,
      trackingUrl: base,
      twilioAuthToken: sandbox.authToken,
      port,
      host: '127.0.0.1',
      log: pino({ level: 'info' }, logs),
    });

    const { sql } = db;
    for (const p of PEOPLE) {
      const [row] = await sql<{ id: number }[]>`
        insert into customers (external_id, full_name, family_name, gender, email, phone, locale)
        values (${p.ext}, ${p.name}, ${p.family}, ${p.gender}, ${p.email}, ${p.phone}, ${p.locale}) returning id`;
      ids[p.ext] = row!.id;
    }
    await sql`insert into consents (customer_id, channel, status, source) select id, ch, 'granted', 't' from customers, unnest(array['email', 'sms']) ch`;
    const [c] = await sql<{ id: number }[]>`
      insert into campaigns (slug, name, spec, workflow_id, audience_channel, snapshot_at)
      values ('wealth', '财富管理月 <b>2026</b>', ${sql.json(SPEC)}, 'campaign-wealth', 'email', now()) returning id`;
    campaignId = c!.id;
    for (const [i, p] of PEOPLE.entries()) {
      await sql`insert into campaign_members (campaign_id, customer_id, rank, band) values (${campaignId}, ${ids[p.ext]!}, ${i + 1}, ${p.band})`;
    }

    // The real messages, sent as a wave would send them, with links to this server.
    const campaign = {
      slug: 'wealth',
      title: '财富管理月',
      offers: { A: OFFER, B: '保温杯' },
      dir: '.',
    } as unknown as LoadedCampaign;
    const context = (row: Parameters<typeof contextFor>[0]) =>
      contextFor(row, campaign, { secret: SECRET, trackingUrl: base, asOf: new Date() });
    const range = {
      campaignId,
      fromCustomerId: Math.min(...Object.values(ids)),
      toCustomerId: Math.max(...Object.values(ids)),
    };
    const emailTemplate = loadTemplate(resolveTemplateDir('wealth-reminder-email', '.'));
    const smsTemplate = loadTemplate(resolveTemplateDir('wealth-last-call-sms', '.'));
    if (emailTemplate.channel !== 'email' || smsTemplate.channel !== 'sms') throw new Error('unexpected templates');
    const email = createEmailChannel({
      smtpUrl: sink.url,
      from: 'Mailroom <m@example.com>',
      campaignSlug: 'wealth',
      trackingUrl: base,
      secret: SECRET,
      template: () => emailTemplate,
    });
    expect((await sendBatch({ ...range, wave: 'reminder' }, { sql, channel: email, context })).sent).toBe(3);
    await email.close();
    const sms = createSmsChannel({
      twilio: { accountSid: sandbox.accountSid, authToken: sandbox.authToken, sandboxUrl: sandbox.url },
      from: '+15005550006',
      statusCallbackUrl: `${base}/twilio/status`,
      template: () => smsTemplate,
    });
    expect((await sendBatch({ ...range, wave: 'last-call' }, { sql, channel: sms, context })).sent).toBe(3);
    for (const p of PEOPLE) {
      const [d] = await sql<
        { id: number }[]
      >`select id from deliveries where customer_id = ${ids[p.ext]!} and channel = 'email'`;
      const eml = readFileSync(join(outbox, `d${d!.id}.wealth@mailroom.eml`), 'utf8');
      emails[p.ext] = {
        deliveryId: d!.id,
        html: htmlPart(eml),
        unsubscribe: /^List-Unsubscribe: <([^>]+)>/m.exec(eml)![1]!,
      };
    }
  });

  afterAll(async () => {
    await server?.stop();
    await sink?.close();
    await sandbox?.close();
    await db?.drop();
  });

  it('answers /health, 404 for unknown paths and 405 for a wrong method', async () => {
    expect((await get('/health')).status).toBe(200);
    expect((await get('/nothing/here')).status).toBe(404);
    expect((await get('/c')).status).toBe(404);
    const wrong = await get('/twilio/status');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('records the SMS delivered status from the sandbox\'s signed callbacks, once per message, and nothing for "sent"', async () => {
    const sms = await db.sql<
      { id: number; customer_id: number }[]
    >`select id, customer_id from deliveries where channel = 'sms' and status = 'sent' order by id`;
    expect(sms).toHaveLength(3);
    for (let i = 0; i < 100 && (await responses('delivered')).length < 3; i++)
      await new Promise((r) => setTimeout(r, 100));
    const delivered = await responses('delivered');
    expect(delivered.map((r) => [r.delivery_id, r.customer_id, r.campaign_id, r.source]).sort()).toEqual(
      sms.map((d) => [d.id, d.customer_id, campaignId, 'twilio']).sort(),
    );
    expect(await count()).toBe(3);
  });

  it("redirects a click on a sent email's link to its target and records one click per link and minute", async () => {
    const { html, deliveryId } = emails.T1!;
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!).filter((u) => u.startsWith(`${base}/c/`));
    expect(links.length).toBeGreaterThan(0);
    const first = await get(pathOf(links[0]!));
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe(`${base}/p/${codeOf('T1')}`); // the template's main link is the PURL
    expect((await get(pathOf(links[0]!))).status).toBe(302); // a double click
    expect((await get(pathOf(links[0]!), { method: 'HEAD' })).status).toBe(302); // a link checker
    expect(await responses('click')).toEqual([
      {
        kind: 'click',
        campaign_id: campaignId,
        customer_id: ids.T1,
        delivery_id: deliveryId,
        source: 'email',
        details: { link: 0 },
      },
    ]);
  });

  it("redirects a proof's click without recording it, and refuses forged or altered tokens", async () => {
    const before = await count();
    const proof = clickToken(
      SECRET,
      { campaign: 'wealth', code: codeOf('T1'), delivery: null },
      0,
      'https://example.com/offer',
    );
    const redirected = await get(`/c/${proof}`);
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe('https://example.com/offer');
    const forged = clickToken(
      'another secret',
      { campaign: 'wealth', code: codeOf('T2'), delivery: emails.T2!.deliveryId },
      0,
      'https://evil.example/',
    );
    const real = clickToken(
      SECRET,
      { campaign: 'wealth', code: codeOf('T2'), delivery: emails.T2!.deliveryId },
      0,
      'https://example.com/',
    );
    const [, sig] = real.split('.');
    const altered = `${Buffer.from(JSON.stringify([1, 'c', 'wealth', codeOf('T2'), emails.T2!.deliveryId, 0, 'https://evil.example/'])).toString('base64url')}.${sig}`;
    for (const token of [forged, altered, 'garbage', `${real}x`, '%E0%A4%A', 'a'.repeat(5000)]) {
      const res = await get(`/c/${token}`);
      expect(res.status, token.slice(0, 40)).toBe(404);
      expect(res.headers.get('location')).toBeNull();
    }
    expect(
      (
        await get(
          `/o/${openToken('another secret', { campaign: 'wealth', code: codeOf('T2'), delivery: emails.T2!.deliveryId })}.gif`,
        )
      ).status,
    ).toBe(404);
    expect(await count()).toBe(before);
  });

  it('answers the open pixel with a 1×1 uncached GIF and records the open', async () => {
    const pixel = /<img src="([^"]+\/o\/[^"]+\.gif)"/.exec(emails.T2!.html)![1]!;
    const res = await get(pathOf(pixel));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(res.headers.get('cache-control')).toContain('no-store');
    const gif = Buffer.from(await res.arrayBuffer());
    expect(gif.subarray(0, 6).toString()).toBe('GIF89a');
    expect([gif.readUInt16LE(6), gif.readUInt16LE(8)]).toEqual([1, 1]);
    await get(pathOf(pixel)); // the mail opened again within the minute
    expect(await responses('open')).toEqual([
      {
        kind: 'open',
        campaign_id: campaignId,
        customer_id: ids.T2,
        delivery_id: emails.T2!.deliveryId,
        source: 'email',
        details: {},
      },
    ]);
  });

  it('shows the PURL page with the campaign, salutation and offer (escaped), recording a visit or, with ?src=qr, a scan', async () => {
    const res = await get(`/p/${codeOf('T1')}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const page = await res.text();
    expect(page).toContain('王先生，您好！');
    expect(page).toContain('财富管理月 &lt;b&gt;2026&lt;/b&gt;');
    expect(page).toContain('电饭煲 &amp; &lt;茶具&gt;');
    expect(page).not.toMatch(/<b>|<茶具>|wang@example\.com|13800000001/);
    // Typed from paper: lower case, O for 0 and I/L for 1 still find the member.
    const typed = codeOf('T3').toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l');
    const english = await (await get(`/p/${typed}`)).text();
    expect(english).toContain('Dear Ms Wright,');
    expect(english).toContain(OFFER.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;'));
    expect((await get(`/p/${codeOf('T2')}?src=qr`)).status).toBe(200);
    await get(`/p/${codeOf('T1')}`); // a reload within the minute
    expect(
      (await responses())
        .filter((r) => r.kind === 'purl_visit' || r.kind === 'qr_scan')
        .map((r) => [r.kind, r.customer_id, r.campaign_id, r.source]),
    ).toEqual([
      ['purl_visit', ids.T1, campaignId, 'purl'],
      ['purl_visit', ids.T3, campaignId, 'purl'],
      ['qr_scan', ids.T2, campaignId, 'qr'],
    ]);
    // The codes are stored now: later visits are one indexed read.
    const stored = await db.sql<
      { customer_id: number; response_code: string }[]
    >`select customer_id, response_code from campaign_members order by customer_id`;
    expect(stored.map((r) => r.response_code)).toEqual(
      stored.map((r) => responseCode(SECRET, 'wealth', r.customer_id)),
    );
  });

  it('answers 404 for codes nobody was given, recording nothing', async () => {
    const before = await count();
    const unknown = responseCode('another secret', 'wealth', ids.T1!);
    for (const path of [`/p/${unknown}`, '/p/SHORT', '/p/%3Cscript%3E', `/u/${unknown}`, '/p/ABCDEFGHIU']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toContain('text/plain');
    }
    expect((await get(`/u/${unknown}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' })).status).toBe(404);
    expect(await count()).toBe(before);
    expect(await db.sql`select 1 from suppressions`).toHaveLength(0);
  });

  it('unsubscribes with the RFC 8058 one-click POST of the List-Unsubscribe header, once, suppressing the customer and the address', async () => {
    const { unsubscribe, deliveryId } = emails.T2!;
    // Its own signed token, not the response code printed on letters.
    expect(unsubscribe).toBe(`${base}/u/${unsubscribeToken(SECRET, 'wealth', ids.T2!)}`);
    // Opening the link shows a form and changes nothing (mail scanners follow links).
    const confirm = await get(pathOf(unsubscribe));
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toMatch(/<form method="post">[^]*确认退订/);
    expect(await responses('unsubscribe')).toEqual([]);
    const oneClick = () =>
      get(pathOf(unsubscribe), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
    expect((await oneClick()).status).toBe(200);
    expect((await oneClick()).status).toBe(200);
    expect(await responses('unsubscribe')).toEqual([
      {
        kind: 'unsubscribe',
        campaign_id: campaignId,
        customer_id: ids.T2,
        delivery_id: deliveryId,
        source: 'list-unsubscribe',
        details: {},
      },
    ]);
    expect(await db.sql`select channel, customer_id, address, reason from suppressions order by id`).toEqual([
      { channel: 'email', customer_id: ids.T2, address: null, reason: 'unsubscribed' },
      { channel: 'email', customer_id: null, address: 'li@example.com', reason: 'unsubscribed' },
    ]);
    // The page's own form works the same way, with the token the page gives it.
    const t3 = pathOf(emails.T3!.unsubscribe);
    const formToken = /name="token" value="([^"]+)"/.exec(await (await get(t3)).text())![1]!;
    const form = await get(t3, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${formToken}`,
    });
    expect(await form.text()).toContain('You are unsubscribed');
    expect((await responses('unsubscribe')).map((r) => [r.customer_id, r.source])).toEqual([
      [ids.T2, 'list-unsubscribe'],
      [ids.T3, 'unsubscribe-page'],
    ]);
  });

  it('refuses Twilio webhooks without a valid signature (403), recording nothing', async () => {
    const before = await count();
    const [d] = await db.sql<
      { provider_id: string }[]
    >`select provider_id from deliveries where channel = 'sms' limit 1`;
    const params = { MessageSid: d!.provider_id, MessageStatus: 'undelivered', AccountSid: sandbox.accountSid };
    const unsigned = await get('/twilio/status', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    expect(unsigned.status).toBe(403);
    expect((await signed('/twilio/status', params, 'a wrong auth token')).status).toBe(403);
    // Signed for other fields than the ones sent.
    const tampered = await get('/twilio/status', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(sandbox.authToken, `${base}/twilio/status`, {
          ...params,
          MessageStatus: 'delivered',
        }),
      },
      body: new URLSearchParams(params).toString(),
    });
    expect(tampered.status).toBe(403);
    expect(
      (
        await signed(
          '/twilio/inbound',
          { MessageSid: 'SMx', From: PEOPLE[0]!.phone, Body: 'STOP' },
          'a wrong auth token',
        )
      ).status,
    ).toBe(403);
    expect(await count()).toBe(before);
    expect(await db.sql`select 1 from suppressions where channel = 'sms'`).toHaveLength(0);
  });

  it('records an undelivered SMS as a bounce beside the ledger\'s "sent", once however often Twilio posts it', async () => {
    const [d] = await db.sql<
      { id: number; provider_id: string; customer_id: number }[]
    >`select id, provider_id, customer_id from deliveries where channel = 'sms' order by id limit 1`;
    const params = {
      MessageSid: d!.provider_id,
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
      AccountSid: sandbox.accountSid,
    };
    expect((await signed('/twilio/status', params)).status).toBe(204);
    expect((await signed('/twilio/status', params)).status).toBe(204);
    expect(await responses('bounce')).toEqual([
      {
        kind: 'bounce',
        campaign_id: campaignId,
        customer_id: d!.customer_id,
        delivery_id: d!.id,
        source: 'twilio',
        details: { status: 'undelivered', error_code: '30003' },
      },
    ]);
    expect((await db.sql`select status from deliveries where id = ${d!.id}`)[0]!.status).toBe('sent');
  });

  it('takes STOP as an opt-out (suppression and sms_stop for the latest SMS), START as opting in again, other text as a reply', async () => {
    const phone = PEOPLE[0]!.phone;
    const [latest] = await db.sql<
      { id: number }[]
    >`select id from deliveries where channel = 'sms' and customer_id = ${ids.T1!}`;
    const inbound = (sid: string, body: string) =>
      signed('/twilio/inbound', {
        MessageSid: sid,
        AccountSid: sandbox.accountSid,
        From: phone,
        To: '+15005550006',
        Body: body,
      });
    const stop = await inbound('SM0001', ' Stop ');
    expect(stop.status).toBe(200);
    expect(stop.headers.get('content-type')).toContain('text/xml');
    expect(await stop.text()).toContain('<Response></Response>');
    await inbound('SM0001', ' Stop '); // Twilio retrying the same message
    expect(await responses('sms_stop')).toEqual([
      {
        kind: 'sms_stop',
        campaign_id: campaignId,
        customer_id: ids.T1,
        delivery_id: latest!.id,
        source: 'twilio',
        details: { sid: 'SM0001' },
      },
    ]);
    expect(await db.sql`select channel, address, reason from suppressions where channel = 'sms'`).toEqual([
      { channel: 'sms', address: phone, reason: 'sms_stop' },
    ]);

    expect((await inbound('SM0002', 'START')).status).toBe(200);
    expect(await db.sql`select 1 from suppressions where channel = 'sms'`).toHaveLength(0);

    await inbound('SM0003', '我想预约周六上午');
    expect((await responses('sms_reply')).map((r) => [r.customer_id, r.delivery_id, r.details])).toEqual([
      [ids.T1, latest!.id, { sid: 'SM0003', body: '我想预约周六上午' }],
    ]);
    // "回T退订": the Chinese opt-out keyword works too.
    expect(smsKeyword('T')).toBe('stop');
    expect(smsKeyword('退订。')).toBe('stop');
    expect(smsKeyword('please stop this')).toBeNull();
  });

  it('logs ids only: no names, email addresses, phone numbers or message text', () => {
    const logs = logLines.join('');
    expect(logs).toContain('"kind":"click"');
    for (const p of PEOPLE) for (const value of [p.name, p.email, p.phone]) expect(logs).not.toContain(value);
    expect(logs).not.toContain('预约');
  });

  it('refuses to start with a secret other than the one that stored the codes', async () => {
    const port = await anyFreePort();
    await expect(
      runTrackingServer({
        databaseUrl: db.url,
        secret: 'another secret',
        trackingUrl: `http://127.0.0.1:${port}`,
        port,
        host: '127.0.0.1',
        log: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(/made with another secret/);
  });
});
