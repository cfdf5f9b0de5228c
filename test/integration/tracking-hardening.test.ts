// What an outside test of the tracking server found, proved against the real server on a real
// PostgreSQL, fed by real email through the SMTP sink and by webhooks signed as Twilio signs them:
// links whose rendered value holds spaces or Chinese redirect; unsubscribe needs its own signed
// token and a real one-click or the page's own form; a replayed or late STOP or START does not
// flip the opt-out; a NUL in a signed field is stored, not answered 503 forever; an oversized body
// gets 413; the landing page is the campaign's template with the sender and the next step, and
// loads in a real browser under its Content-Security-Policy.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseCode } from '../../pipeline/render/codes.ts';
import { contextFor } from '../../pipeline/render/context.ts';
import { loadTemplate } from '../../pipeline/render/templates.ts';
import { createEmailChannel } from '../../pipeline/send/email-channel.ts';
import { sendBatch } from '../../pipeline/send/ledger.ts';
import { unsubscribeToken } from '../../pipeline/send/tracking-links.ts';
import type { LoadedCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../dev/twilio-sandbox.ts';
import { runTrackingServer, type RunningTrackingServer } from '../../server/run-server.ts';
import { tempDir } from '../helpers/csv.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const SECRET = 'hardening-test-secret';
const OWNER = '招商路支行 财富管理中心';
const DESCRIPTION = 'Internal: Q1 push to the dormant cohort, do not show';
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
const PEOPLE = [
  // A full name with a space, as the customer file had it.
  { ext: 'H1', name: '王 晓明', family: '王', gender: 'male', email: 'wang@example.com', phone: '+8613800000011' },
  {
    ext: 'H2',
    name: 'Emma Wright',
    family: 'Wright',
    gender: 'female',
    email: 'emma@example.com',
    phone: '+447700900012',
  },
] as const;
const LOCALES = { H1: 'zh-CN', H2: 'en-GB' } as const;

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

/** A Twilio message sid (the sandbox answers for sids of this shape). */
const sidOf = (n: number) => `SM${n.toString(16).padStart(32, '0')}`;

describe('tracking server hardening', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let sandbox: TwilioSandbox;
  let server: RunningTrackingServer;
  let base: string;
  let campaignId: number;
  let autumnId: number;
  const ids: Record<string, number> = {};
  const emails: Record<string, { deliveryId: number; html: string; unsubscribe: string }> = {};
  const logLines: string[] = [];
  const dir = tempDir();

  const get = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { redirect: 'manual', ...init });
  const pathOf = (url: string) => url.slice(base.length);
  const codeOf = (ext: string, slug = 'spring') => responseCode(SECRET, slug, ids[ext]!);
  const count = async (table: 'responses' | 'suppressions') =>
    Number((await db.sql<{ n: number }[]>`select count(*)::int as n from ${db.sql(table)}`)[0]!.n);
  const signed = (path: string, params: Record<string, string>) =>
    get(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(sandbox.authToken, `${base}${path}`, params),
      },
      body: new URLSearchParams(params).toString(),
    });
  /** An inbound SMS as Twilio posts it; `at` is when Twilio received it (its message resource says so). */
  const inbound = (n: number, from: string, body: string, at?: string) => {
    const sid = sidOf(n);
    if (at && !sandbox.messages.has(sid)) {
      sandbox.messages.set(sid, {
        sid,
        account_sid: sandbox.accountSid,
        to: '+15005550006',
        from,
        messaging_service_sid: null,
        body,
        status: 'received',
        num_segments: '1',
        date_created: new Date(at).toUTCString(),
        status_callback: null,
      });
    }
    return signed('/twilio/inbound', {
      MessageSid: sid,
      SmsSid: sid,
      AccountSid: sandbox.accountSid,
      From: from,
      To: '+15005550006',
      Body: body,
    });
  };
  const smsOptOut = async (phone: string) =>
    (await db.sql`select 1 from suppressions where channel = 'sms' and address = ${phone}`).length > 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(join(dir, 'outbox'), { port: await anyFreePort() });
    sandbox = await startTwilioSandbox(join(dir, 'sms'), { port: await anyFreePort(), callbackDelayMs: 10 });
    const port = await anyFreePort();
    base = `http://127.0.0.1:${port}`;
    server = await runTrackingServer({
      databaseUrl: db.url,
      secret: SECRET,
      trackingUrl: base,
      twilioAuthToken: sandbox.authToken,
      twilioApiUrl: sandbox.url,
      port,
      host: '127.0.0.1',
      log: pino(
        { level: 'info' },
        new Writable({
          write: (chunk: Buffer, _enc, done) => {
            logLines.push(chunk.toString());
            done();
          },
        }),
      ),
    });

    // The campaign's folder: its email template links with the customer's name in the query.
    const emailDir = join(dir, 'templates', 'spring-email');
    mkdirSync(emailDir, { recursive: true });
    writeFileSync(join(emailDir, 'template.yaml'), 'channel: email\nsubject: "{{customer.salutation}}"\n');
    writeFileSync(
      join(emailDir, 'body.html.hbs'),
      '<html><body><p><a href="https://example.com/book?n={{customer.full_name}}&src=邮件">预约</a></p>' +
        '<p><a href="{{links.unsubscribe}}">退订</a></p></body></html>\n',
    );
    writeFileSync(join(emailDir, 'body.txt.hbs'), '预约 {{purl}}\n退订 {{links.unsubscribe}}\n');
    // A second campaign names its own landing page.
    const landingDir = join(dir, 'templates', 'autumn-landing');
    mkdirSync(landingDir, { recursive: true });
    writeFileSync(
      join(landingDir, 'landing.html.hbs'),
      '<!doctype html><html lang="{{customer.locale}}"><head><meta charset="utf-8"><title>秋季</title></head>' +
        '<body><h1>{{customer.salutation}}，秋季礼遇</h1><p>来源 {{landing.source}}，{{campaign.owner}}</p></body></html>\n',
    );
    const springFile = join(dir, 'spring.yaml');
    const springText = [
      'name: spring',
      `description: "${DESCRIPTION}"`,
      `owner: ${OWNER}`,
      'offers: { gift: 电饭煲 }',
      'waves:',
      '  - { name: reminder, channel: email, template: spring-email }',
      '',
    ].join('\n');
    const autumnText = [
      'name: autumn',
      `owner: ${OWNER}`,
      'landing: autumn-landing',
      'waves:',
      '  - { name: reminder, channel: email, template: spring-email }',
      '',
    ].join('\n');

    const { sql } = db;
    for (const p of PEOPLE) {
      const [row] = await sql<{ id: number }[]>`
        insert into customers (external_id, full_name, family_name, gender, email, phone, locale, attributes)
        values (${p.ext}, ${p.name}, ${p.family}, ${p.gender}, ${p.email}, ${p.phone}, ${LOCALES[p.ext]},
                ${sql.json({ account_manager: '李经理' })}) returning id`;
      ids[p.ext] = row!.id;
    }
    await sql`insert into consents (customer_id, channel, status, source) select id, ch, 'granted', 't' from customers, unnest(array['email', 'sms']) ch`;
    // As launch stores a campaign without a title: its name is the description.
    const [c] = await sql<{ id: number }[]>`
      insert into campaigns (slug, name, spec, workflow_id, audience_channel, snapshot_at)
      values ('spring', ${DESCRIPTION}, ${sql.json({ file: springFile, text: springText })}, 'campaign-spring', 'email', now()) returning id`;
    campaignId = c!.id;
    const [a] = await sql<{ id: number }[]>`
      insert into campaigns (slug, name, spec, workflow_id, audience_channel, snapshot_at)
      values ('autumn', 'autumn', ${sql.json({ file: join(dir, 'autumn.yaml'), text: autumnText })}, 'campaign-autumn', 'email', now()) returning id`;
    autumnId = a!.id;
    for (const [i, p] of PEOPLE.entries()) {
      await sql`insert into campaign_members (campaign_id, customer_id, rank, band) values (${campaignId}, ${ids[p.ext]!}, ${i + 1}, 'gift')`;
      await sql`insert into campaign_members (campaign_id, customer_id, rank, band) values (${autumnId}, ${ids[p.ext]!}, ${i + 1}, null)`;
    }

    const campaign = {
      slug: 'spring',
      title: DESCRIPTION,
      description: DESCRIPTION,
      owner: OWNER,
      offers: { gift: '电饭煲' },
      dir,
    } as unknown as LoadedCampaign;
    const template = loadTemplate(emailDir);
    if (template.channel !== 'email') throw new Error('unexpected template');
    const email = createEmailChannel({
      smtpUrl: sink.url,
      from: 'Mailroom <m@example.com>',
      campaignSlug: 'spring',
      trackingUrl: base,
      secret: SECRET,
      template: () => template,
    });
    const range = {
      campaignId,
      fromCustomerId: Math.min(...Object.values(ids)),
      toCustomerId: Math.max(...Object.values(ids)),
      wave: 'reminder',
    };
    const context = (row: Parameters<typeof contextFor>[0]) =>
      contextFor(row, campaign, { secret: SECRET, trackingUrl: base, asOf: new Date() });
    expect((await sendBatch(range, { sql, channel: email, context })).sent).toBe(2);
    await email.close();
    for (const p of PEOPLE) {
      const [d] = await sql<
        { id: number }[]
      >`select id from deliveries where customer_id = ${ids[p.ext]!} and channel = 'email'`;
      const eml = readFileSync(join(dir, 'outbox', `d${d!.id}.spring@mailroom.eml`), 'utf8');
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

  describe('tracked links (item 11)', () => {
    it('redirects a link whose rendered value holds a space or Chinese to its percent-encoded URL, and counts the click', async () => {
      const expected = {
        H1: 'https://example.com/book?n=%E7%8E%8B%20%E6%99%93%E6%98%8E&src=%E9%82%AE%E4%BB%B6',
        H2: 'https://example.com/book?n=Emma%20Wright&src=%E9%82%AE%E4%BB%B6',
      };
      for (const p of PEOPLE) {
        const links = [...emails[p.ext]!.html.matchAll(/href="([^"]+)"/g)]
          .map((m) => m[1]!)
          .filter((u) => u.startsWith(`${base}/c/`));
        expect(links, p.ext).toHaveLength(1);
        const res = await get(pathOf(links[0]!));
        expect(res.status, p.ext).toBe(302);
        expect(res.headers.get('location')).toBe(expected[p.ext]);
      }
      expect(
        (await db.sql`select customer_id from responses where kind = 'click' order by customer_id`).map(
          (r) => r.customer_id,
        ),
      ).toEqual([ids.H1, ids.H2].sort((x, y) => x! - y!));
    });
  });

  describe('unsubscribe (item 13)', () => {
    const oneClickForm = () => {
      const form = new FormData();
      form.set('List-Unsubscribe', 'One-Click');
      return form;
    };

    it('puts a signed token of its own in the List-Unsubscribe header and the footer, not the response code', () => {
      for (const p of PEOPLE) {
        const { unsubscribe, html } = emails[p.ext]!;
        expect(unsubscribe).toBe(`${base}/u/${unsubscribeToken(SECRET, 'spring', ids[p.ext]!)}`);
        expect(unsubscribe).not.toBe(`${base}/u/${codeOf(p.ext)}`);
        expect(html).toContain(`href="${unsubscribe}"`);
      }
    });

    it('refuses the response code printed on letters and SMS: no page, no one-click, nothing written', async () => {
      const before = [await count('responses'), await count('suppressions')];
      const bare = `/u/${codeOf('H1')}`;
      expect((await get(bare)).status).toBe(404);
      const post = await get(bare, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(post.status).toBe(404);
      // A token signed for another member or campaign is no better.
      const other = unsubscribeToken(SECRET, 'spring', ids.H2!).split('.')[1];
      expect((await get(`/u/${codeOf('H1')}.${other}`, { method: 'POST', body: oneClickForm() })).status).toBe(404);
      expect([await count('responses'), await count('suppressions')]).toEqual(before);
    });

    it('refuses any POST that is neither RFC 8058 one-click nor the page form with its token, writing nothing', async () => {
      const before = [await count('responses'), await count('suppressions')];
      const path = pathOf(emails.H1!.unsubscribe);
      const otherPage = await (await get(pathOf(emails.H2!.unsubscribe))).text();
      const h2Token = /name="token" value="([^"]+)"/.exec(otherPage)![1]!;
      const attempts: [string, RequestInit][] = [
        // Another site's form: text/plain with any body.
        ['text/plain x', { headers: { 'content-type': 'text/plain' }, body: 'x' }],
        ['text/plain one-click', { headers: { 'content-type': 'text/plain' }, body: 'List-Unsubscribe=One-Click' }],
        ['no body', {}],
        [
          'form without token',
          { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' },
        ],
        [
          'one-click misspelt',
          { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=one-click' },
        ],
        [
          "another member's form token",
          { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${h2Token}` },
        ],
        ['json', { headers: { 'content-type': 'application/json' }, body: '{"List-Unsubscribe":"One-Click"}' }],
      ];
      for (const [what, init] of attempts) {
        const res = await get(path, { method: 'POST', ...init });
        expect(res.status, what).toBe(403);
      }
      expect([await count('responses'), await count('suppressions')]).toEqual(before);
    });

    it('unsubscribes with a multipart/form-data one-click POST (RFC 8058 allows both encodings)', async () => {
      const res = await get(pathOf(emails.H1!.unsubscribe), { method: 'POST', body: oneClickForm() });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('您已退订');
      expect(
        await db.sql`select customer_id, source from responses where kind = 'unsubscribe'`.then((r) => [...r]),
      ).toEqual([{ customer_id: ids.H1, source: 'list-unsubscribe' }]);
      expect(
        await db.sql`select channel, customer_id, address from suppressions order by id`.then((r) => [...r]),
      ).toEqual([
        { channel: 'email', customer_id: ids.H1, address: null },
        { channel: 'email', customer_id: null, address: 'wang@example.com' },
      ]);
    });

    it("shows the sender on the confirmation page, never the campaign's internal description", async () => {
      const page = await (await get(pathOf(emails.H2!.unsubscribe))).text();
      expect(page).toContain(OWNER);
      expect(page).not.toContain('Internal');
    });
  });

  describe('inbound SMS (items 14, 15)', () => {
    it('takes each message once: a replayed STOP after a START does not opt out again, a replayed START does not opt in again', async () => {
      const phone = PEOPLE[0].phone;
      expect((await inbound(1, phone, 'STOP', '2026-12-01T09:00:00Z')).status).toBe(200);
      expect(await smsOptOut(phone)).toBe(true);
      expect((await inbound(2, phone, 'START', '2026-12-01T09:05:00Z')).status).toBe(200);
      expect(await smsOptOut(phone)).toBe(false);
      expect((await inbound(1, phone, 'STOP')).status).toBe(200); // the STOP replayed
      expect(await smsOptOut(phone)).toBe(false);
      expect((await inbound(3, phone, '退订', '2026-12-01T09:10:00Z')).status).toBe(200);
      expect(await smsOptOut(phone)).toBe(true);
      expect((await inbound(2, phone, 'START')).status).toBe(200); // the START replayed
      expect(await smsOptOut(phone)).toBe(true);
      // One sms_stop response per STOP message, however often it came.
      expect(
        (await db.sql`select details->>'sid' as sid from responses where kind = 'sms_stop' order by id`).map(
          (r) => r.sid,
        ),
      ).toEqual([sidOf(1), sidOf(3)]);
      expect([
        ...(await db.sql`select message_sid, keyword, clock from sms_inbound where phone = ${phone} order by id`),
      ]).toEqual([
        { message_sid: sidOf(1), keyword: 'stop', clock: 'twilio' },
        { message_sid: sidOf(2), keyword: 'start', clock: 'twilio' },
        { message_sid: sidOf(3), keyword: 'stop', clock: 'twilio' },
      ]);
    });

    it('takes STOP and START in the order Twilio received them, whatever order their webhooks arrive in', async () => {
      const phone = PEOPLE[1].phone;
      // START sent after STOP, but its webhook arrives first: the customer's last word is START.
      expect((await inbound(11, phone, 'START', '2026-12-02T10:00:05Z')).status).toBe(200);
      expect((await inbound(10, phone, 'STOP', '2026-12-02T10:00:00Z')).status).toBe(200);
      expect(await smsOptOut(phone)).toBe(false);
      // And the other way round: a late START older than the STOP changes nothing.
      expect((await inbound(13, phone, 'stop', '2026-12-02T11:00:05Z')).status).toBe(200);
      expect((await inbound(12, phone, 'start', '2026-12-02T11:00:00Z')).status).toBe(200);
      expect(await smsOptOut(phone)).toBe(true);
      const applied = logLines
        .map((l) => JSON.parse(l) as { sid?: string; applied?: boolean })
        .filter((l) => l.sid && [10, 11, 12, 13].map(sidOf).includes(l.sid))
        .map((l) => [l.sid, l.applied]);
      expect(applied).toEqual([
        [sidOf(11), true],
        [sidOf(10), false],
        [sidOf(13), true],
        [sidOf(12), false],
      ]);
    });

    it('orders by arrival when Twilio cannot say when it received a message', async () => {
      const phone = '+8613800000099';
      expect((await inbound(20, phone, 'STOP')).status).toBe(200); // unknown to the sandbox: 404
      expect(await smsOptOut(phone)).toBe(true);
      expect((await inbound(21, phone, 'START')).status).toBe(200);
      expect(await smsOptOut(phone)).toBe(false);
      expect([...(await db.sql`select clock from sms_inbound where phone = ${phone}`)].map((r) => r.clock)).toEqual([
        'arrival',
        'arrival',
      ]);
    });

    it('stores a message whose signed Body, From or ErrorCode holds a NUL or other control character, without them', async () => {
      const phone = PEOPLE[0].phone;
      // The SMS the reply answers.
      await db.sql`
        insert into deliveries (campaign_id, customer_id, channel, wave, status, provider_id, sent_at)
        values (${campaignId}, ${ids.H1!}, 'sms', 'reminder', 'sent', ${sidOf(41)}, now())`;
      const res = await inbound(30, `${phone}\u0000`, '我想\u0000预约\u0007周六\n上午');
      expect(res.status).toBe(200);
      const [reply] = await db.sql<{ customer_id: number; details: { body: string } }[]>`
        select customer_id, details from responses where kind = 'sms_reply' and details->>'sid' = ${sidOf(30)}`;
      expect(reply!.details.body).toBe('我想预约周六\n上午');
      expect(reply!.customer_id).toBe(ids.H1);
      // A STOP with a NUL in it is still a STOP.
      const other = '+8613800000098';
      expect((await inbound(31, other, 'STOP\u0000')).status).toBe(200);
      expect(await smsOptOut(other)).toBe(true);

      const [sms] = await db.sql<{ id: number }[]>`
        insert into deliveries (campaign_id, customer_id, channel, wave, status, provider_id, sent_at)
        values (${campaignId}, ${ids.H2!}, 'sms', 'reminder', 'sent', ${sidOf(40)}, now()) returning id`;
      const status = await signed('/twilio/status', {
        MessageSid: sidOf(40),
        MessageStatus: 'undelivered',
        ErrorCode: '30003\u0000',
        AccountSid: sandbox.accountSid,
      });
      expect(status.status).toBe(204);
      expect([
        ...(await db.sql`select details from responses where kind = 'bounce' and delivery_id = ${sms!.id}`),
      ]).toEqual([{ details: { status: 'undelivered', error_code: '30003' } }]);
    });
  });

  describe('request size (item 16)', () => {
    const big = 'x='.padEnd(200_000, 'a');

    it('answers an oversized body with 413 (fetch), then closes the connection', async () => {
      for (const path of ['/twilio/inbound', pathOf(emails.H2!.unsubscribe)]) {
        const res = await get(path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: big,
        });
        expect(res.status, path).toBe(413);
        expect(res.headers.get('connection')).toBe('close');
        expect(await res.text()).toBe('Request body too large.\n');
      }
    });

    it('answers 413 also to a client that streams several megabytes without a declared length', async () => {
      const status = await new Promise<number>((resolveStatus, reject) => {
        const req = request(
          `${base}/twilio/inbound`,
          { method: 'POST', headers: { 'transfer-encoding': 'chunked' } },
          (res) => {
            res.resume();
            resolveStatus(res.statusCode!);
          },
        );
        req.on('error', reject);
        const chunk = Buffer.alloc(64 * 1024, 'a');
        let sent = 0;
        const write = () => {
          while (sent < 4 * 1024 * 1024) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', write);
          }
          req.end();
        };
        write();
      });
      expect(status).toBe(413);
    });
  });

  describe('landing page (item 12)', () => {
    it("shows the shipped page in the customer's language with the sender and the call to action, never the description", async () => {
      const res = await get(`/p/${codeOf('H1')}?src=qr`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      const zh = await res.text();
      expect(zh).toContain('<html lang="zh-CN">');
      expect(zh).toContain(OWNER);
      expect(zh).toContain('王先生，您好！');
      expect(zh).toContain('预约到访时间');
      expect(zh).toContain('您看明天还是后天方便？');
      expect(zh).toContain(codeOf('H1'));
      expect(zh).toContain('电饭煲');
      expect(zh).not.toContain('Internal');
      const en = await (await get(`/p/${codeOf('H2')}`)).text();
      expect(en).toContain('<html lang="en-GB">');
      expect(en).toContain('Dear Ms Wright,');
      expect(en).toContain('Book a visit');
      expect(en).toContain(OWNER);
      expect(en).not.toContain('Internal');
    });

    it("shows the campaign's own landing template when its file names one", async () => {
      const res = await get(`/p/${codeOf('H1', 'autumn')}?src=qr`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      const page = await res.text();
      expect(page).toContain('<h1>王先生，秋季礼遇</h1>');
      expect(page).toContain(`来源 qr，${OWNER}`);
    });

    it('loads in a real browser: nothing blocked by the Content-Security-Policy, styles applied, the text right', async () => {
      const browser = await launchBrowser();
      try {
        for (const [ext, expected] of [
          ['H1', ['王先生，您好！', OWNER, '预约到访时间', codeOf('H1'), '到访即可获赠：', '电饭煲']],
          ['H2', ['Dear Ms Wright,', OWNER, 'Book a visit', codeOf('H2')]],
        ] as const) {
          const page = await browser.newPage();
          const refused: string[] = [];
          const requests: string[] = [];
          const favicon = (url: string | undefined) => Boolean(url?.endsWith('/favicon.ico'));
          page.on('console', (m) => {
            if (favicon(m.location().url)) return;
            if (m.type() === 'error' || /Content Security Policy|Refused/i.test(m.text())) refused.push(m.text());
          });
          page.on('request', (r) => requests.push(r.url()));
          page.on('requestfailed', (r) => {
            if (!favicon(r.url())) refused.push(`failed: ${r.url()}`);
          });
          const response = await page.goto(`${base}/p/${codeOf(ext)}`, { waitUntil: 'load' });
          expect(response?.status()).toBe(200);
          // Evaluated in the page (as text: this project's TypeScript has no DOM types).
          const seen = (await page.evaluate(`({
            text: document.body.innerText,
            title: document.title,
            lang: document.documentElement.lang,
            ctaBorder: getComputedStyle(document.querySelector('.cta')).borderTopColor,
            codeWeight: getComputedStyle(document.querySelector('.code')).fontWeight,
          })`)) as { text: string; title: string; lang: string; ctaBorder: string; codeWeight: string };
          for (const text of expected) expect(seen.text, ext).toContain(text);
          expect(seen.text).not.toContain('Internal');
          expect(seen.title).toContain(OWNER);
          expect(seen.lang).toBe(LOCALES[ext]);
          // The inline stylesheet applied: the CSP allows what the page needs.
          expect(seen.ctaBorder).toBe('rgb(0, 76, 153)');
          expect(seen.codeWeight).toBe('700');
          expect(refused).toEqual([]);
          // The page asks for nothing else (the browser's own favicon request aside).
          expect(requests.filter((u) => !favicon(u))).toEqual([`${base}/p/${codeOf(ext)}`]);
          await page.close();
        }
      } finally {
        await browser.close();
      }
    });
  });

  describe('unsubscribe page in a browser (item 13)', () => {
    it("unsubscribes with the page's own button under the page's Content-Security-Policy", async () => {
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        const refused: string[] = [];
        page.on('console', (m) => {
          if (!m.location().url?.endsWith('/favicon.ico') && m.type() === 'error') refused.push(m.text());
        });
        const before = await db.sql`select 1 from responses where kind = 'unsubscribe' and customer_id = ${ids.H2!}`;
        expect(before).toHaveLength(0);
        await page.goto(emails.H2!.unsubscribe, { waitUntil: 'load' });
        expect((await page.evaluate('document.body.innerText')) as string).toContain(
          `Do you want to stop receiving marketing email from ${OWNER}?`,
        );
        // Opening the page changed nothing.
        expect(
          await db.sql`select 1 from responses where kind = 'unsubscribe' and customer_id = ${ids.H2!}`,
        ).toHaveLength(0);
        await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button[type="submit"]')]);
        expect((await page.evaluate('document.body.innerText')) as string).toContain('You are unsubscribed');
        expect(refused).toEqual([]);
        expect([
          ...(await db.sql`select source from responses where kind = 'unsubscribe' and customer_id = ${ids.H2!}`),
        ]).toEqual([{ source: 'unsubscribe-page' }]);
        expect(
          await db.sql`select 1 from suppressions where channel = 'email' and customer_id = ${ids.H2!}`,
        ).toHaveLength(1);
      } finally {
        await browser.close();
      }
    });
  });

  it('logs ids only: no names, email addresses, phone numbers or message text', () => {
    const logs = logLines.join('');
    for (const p of PEOPLE) for (const value of [p.name, p.email, p.phone]) expect(logs).not.toContain(value);
    expect(logs).not.toContain('预约');
  });
});
