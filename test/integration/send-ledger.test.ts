import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotAudience } from '../../pipeline/audience/snapshot.ts';
import { builtinSegments } from '../../pipeline/audience/segments.ts';
import { parseRule } from '../../pipeline/audience/rules.ts';
import { contextFor } from '../../pipeline/render/context.ts';
import { loadTemplate, resolveTemplateDir } from '../../pipeline/render/templates.ts';
import { createEmailChannel } from '../../pipeline/send/email-channel.ts';
import { sendBatch, type BatchDeps } from '../../pipeline/send/ledger.ts';
import { createSmsChannel } from '../../pipeline/send/sms-channel.ts';
import { inQuietHours } from '../../pipeline/send/quiet-hours.ts';
import { startTwilioSandbox } from '../../dev/twilio-sandbox.ts';
import type { LoadedCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

describe('sending email through the deliveries ledger (real SMTP server)', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let port: number;
  let campaignId: number;
  let ids: number[];
  const outbox = join(tempDir(), 'outbox');
  const template = loadTemplate(resolveTemplateDir('wealth-reminder-email', '.'));
  if (template.channel !== 'email') throw new Error('expected an email template');
  const campaign = { slug: 'ledger-test', title: 'Ledger test', offers: {}, dir: '.' } as unknown as LoadedCampaign;
  const channel = () =>
    createEmailChannel({
      smtpUrl: sink.url,
      from: 'Mailroom <m@example.com>',
      campaignSlug: 'ledger-test',
      trackingUrl: 'https://go.example.com',
      secret: 's',
      template: () => template,
    });
  const opened: { close(): Promise<void> }[] = [];
  const deps = (overrides: Partial<BatchDeps> = {}): BatchDeps => ({
    sql: db.sql,
    channel: (() => {
      const c = channel();
      opened.push(c);
      return c;
    })(),
    context: (row) =>
      contextFor(row, campaign, { secret: 's', trackingUrl: 'https://go.example.com', asOf: new Date() }),
    ...overrides,
  });
  const spec = (wave: string) => ({
    campaignId,
    wave,
    fromCustomerId: Math.min(...ids),
    toCustomerId: Math.max(...ids),
  });
  const files = () => readdirSync(outbox).sort();

  beforeAll(async () => {
    db = await createTestDatabase();
    port = await anyFreePort();
    sink = await startSmtpSink(outbox, { port, rejectRecipients: /bounce/ });
    const sql = db.sql;
    await sql`insert into customers (external_id, full_name, family_name, gender, email) values
      ('L1', '王晓明', '王', 'male', 'wang@example.com'), ('L2', '李娜', '李', 'female', 'li@example.com'),
      ('L3', 'Emma Wright', 'Wright', 'female', 'emma@example.com'), ('L4', 'Bounce', null, 'unknown', 'bounce@example.com'),
      ('L5', '无邮箱', null, 'unknown', null)`;
    await sql`update customers set address_line1 = '建国路1号', city = '北京市', postal_code = '100001'`;
    await sql`insert into consents (customer_id, channel, status, source) select id, 'email', 'granted', 't' from customers`;
    ids = (await sql<{ id: number }[]>`select id from customers order by id`).map((r) => r.id);
    const [c] = await sql<
      { id: number }[]
    >`insert into campaigns (slug, name, spec, workflow_id) values ('ledger-test', 'L', '{}', 'campaign-ledger-test') returning id`;
    campaignId = c!.id;
    // The audience is on mail (no consent needed) so that the email wave's own checks show.
    await snapshotAudience({ sql, registry: builtinSegments(), asOf: new Date() }, campaignId, {
      segment: { name: 'all', rules: parseRule({ field: 'external_id', op: 'starts_with', value: 'L' }), origin: 't' },
      channel: 'mail',
      holdoutPercent: 0,
      variants: [],
      onePerHousehold: false,
    });
  });
  afterAll(async () => {
    for (const c of opened) await c.close();
    await sink.close();
    await db.drop();
  });

  it('sends each member once, records bounces, skips what has no address, and a retry sends nothing again', async () => {
    const first = await sendBatch(spec('reminder'), deps());
    expect(first).toEqual({
      planned: 5,
      sent: 3,
      failed: 1,
      uncertain: 0,
      skipped: 0,
      suppressed: 1,
      deferred: 0,
      totals: { sent: 3, failed: 1, uncertain: 0, recovered: 0 },
    });
    // The hard bounce put the address on the email suppression list.
    expect(await db.sql`select channel, address, reason from suppressions`).toEqual([
      { channel: 'email', address: 'bounce@example.com', reason: 'hard_bounce' },
    ]);
    const rows = await db.sql<
      { id: number; status: string; error: string | null }[]
    >`select id, status, error from deliveries where wave = 'reminder' order by customer_id`;
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'failed']);
    expect(rows[3]!.error).toMatch(/^SMTP 550/);
    // Message-IDs name the delivery: one file per delivery at the SMTP server.
    expect(files()).toEqual(
      rows
        .slice(0, 3)
        .map((r) => `d${r.id}.ledger-test@mailroom.eml`)
        .sort(),
    );
    const again = await sendBatch(spec('reminder'), deps());
    // Nothing new this time; the range's standing in the ledger is the same.
    expect(again).toEqual({
      planned: 5,
      sent: 0,
      failed: 0,
      uncertain: 0,
      skipped: 4,
      suppressed: 1,
      deferred: 0,
      totals: { sent: 3, failed: 1, uncertain: 0, recovered: 0 },
    });
    expect(files()).toHaveLength(3);
  });

  // The state a crash leaves: the row is pending, and the message did or did not reach the server.
  const leftPending = async (wave: string, customerId: number, reachServer: boolean) => {
    const [d] = await db.sql<
      { id: number }[]
    >`insert into deliveries (campaign_id, wave, customer_id, channel, status) values (${campaignId}, ${wave}, ${customerId}, 'email', 'pending') returning id`;
    if (reachServer) {
      const [row] =
        await db.sql`select m.customer_id, c.* , m.rank, m.band, m.variant from campaign_members m join customers c on c.id = m.customer_id where m.customer_id = ${customerId} and m.campaign_id = ${campaignId}`;
      const c = channel();
      await c.send({
        deliveryId: d!.id,
        context: contextFor({ ...row, customer_id: customerId } as never, campaign, {
          secret: 's',
          trackingUrl: 'https://go.example.com',
          asOf: new Date(),
        }),
      });
      await c.close();
    }
    return d!.id;
  };
  const copies = (id: number) => files().filter((f) => f.startsWith(`d${id}.ledger-test@mailroom`));

  it('settles a send interrupted after the server took it by asking the lookup: found, not sent again', async () => {
    const id = await leftPending('crash-found', ids[0]!, true);
    expect(copies(id)).toHaveLength(1);
    const result = await sendBatch(
      spec('crash-found'),
      deps({
        channel: createEmailChannel({
          smtpUrl: sink.url,
          lookupUrl: sink.lookupUrl,
          from: 'm@example.com',
          campaignSlug: 'ledger-test',
          trackingUrl: 'https://go.example.com',
          secret: 's',
          template: () => template,
        }),
      }),
    );
    expect(result).toMatchObject({ sent: 3, failed: 0, uncertain: 1, suppressed: 2 });
    expect(copies(id)).toHaveLength(1);
    expect(await db.sql`select status, recovery, attempts from deliveries where id = ${id}`).toEqual([
      { status: 'sent', recovery: 'found', attempts: 0 },
    ]);
  });

  it('sends an interrupted message the server never took again, under the same Message-ID', async () => {
    const id = await leftPending('crash-lost', ids[0]!, false);
    const result = await sendBatch(
      spec('crash-lost'),
      deps({
        channel: createEmailChannel({
          smtpUrl: sink.url,
          lookupUrl: sink.lookupUrl,
          from: 'm@example.com',
          campaignSlug: 'ledger-test',
          trackingUrl: 'https://go.example.com',
          secret: 's',
          template: () => template,
        }),
      }),
    );
    expect(result).toMatchObject({ sent: 3, uncertain: 1 });
    expect(copies(id)).toEqual([`d${id}.ledger-test@mailroom.eml`]);
    expect(await db.sql`select status, recovery, attempts from deliveries where id = ${id}`).toEqual([
      { status: 'sent', recovery: 'resent', attempts: 1 },
    ]);
  });

  it('without a lookup, sends again under the same Message-ID: the one idempotency key email has', async () => {
    const id = await leftPending('crash-blind', ids[0]!, true);
    const result = await sendBatch(spec('crash-blind'), deps());
    expect(result).toMatchObject({ sent: 3, uncertain: 1 });
    // The server got it twice; both copies carry the same Message-ID, which mailbox providers collapse.
    expect(copies(id)).toEqual([`d${id}.ledger-test@mailroom.2.eml`, `d${id}.ledger-test@mailroom.eml`]);
  });

  it('leaves an interrupted send uncertain, not resent, when its channel cannot settle it', async () => {
    const id = await leftPending('crash-unknown', ids[0]!, false);
    const base = channel();
    opened.push(base);
    const result = await sendBatch(
      spec('crash-unknown'),
      deps({ channel: { name: 'email', send: (m) => base.send(m), close: () => base.close() } }),
    );
    expect(result).toMatchObject({ sent: 2, failed: 0, uncertain: 1, suppressed: 2 });
    expect(copies(id)).toEqual([]);
    expect(await db.sql`select status, error from deliveries where id = ${id}`).toEqual([
      { status: 'uncertain', error: 'left pending by an interrupted send' },
    ]);
  });

  it('keeps nothing pending when the SMTP server is down, and sends everything once it is back', async () => {
    for (const c of opened) await c.close();
    await sink.close();
    await expect(sendBatch(spec('outage'), deps())).rejects.toThrow(/ECONNREFUSED|connect/);
    expect((await db.sql`select count(*)::int as n from deliveries where wave = 'outage'`)[0]!.n).toBe(0);
    sink = await startSmtpSink(outbox, { port, rejectRecipients: /bounce/ });
    expect(await sendBatch(spec('outage'), deps())).toMatchObject({ sent: 3, failed: 0, uncertain: 0, suppressed: 2 });
  });

  it('sends SMS through the real twilio SDK, suppresses numbers that replied STOP, and defers quiet hours', async () => {
    const sandbox = await startTwilioSandbox(join(tempDir(), 'sms'), { port: await anyFreePort() });
    try {
      await db.sql`update customers set phone = '+86139' || lpad(id::text, 8, '0')`;
      await db.sql`insert into consents (customer_id, channel, status, source) select id, 'sms', 'granted', 't' from customers`;
      const stopped = (await db.sql<{ phone: string }[]>`select phone from customers where external_id = 'L2'`)[0]!
        .phone;
      sandbox.stopped.add(stopped);
      const smsTemplate = loadTemplate(resolveTemplateDir('wealth-last-call-sms', '.'));
      if (smsTemplate.channel !== 'sms') throw new Error('expected an sms template');
      const sms = createSmsChannel({
        twilio: { accountSid: sandbox.accountSid, authToken: sandbox.authToken, sandboxUrl: sandbox.url },
        from: '+15005550006',
        template: () => smsTemplate,
      });
      // Everyone inside quiet hours: nothing is sent or recorded, everyone is deferred. At a fixed
      // instant: quiet hours of 00:00–23:59 leave out the minute 23:59, which the clock reaches daily.
      const noonInChina = new Date('2026-12-01T04:00:00Z');
      const quiet = await sendBatch(
        spec('sms'),
        deps({ channel: sms, defer: (row) => inQuietHours(noonInChina, row.timezone, { from: '00:00', to: '23:59' }) }),
      );
      expect(quiet).toMatchObject({ sent: 0, deferred: 5 });
      expect(sandbox.messages.size).toBe(0);
      const result = await sendBatch(spec('sms'), deps({ channel: sms }));
      expect(result).toMatchObject({ sent: 4, failed: 1, suppressed: 0, deferred: 0 });
      expect([...sandbox.messages.values()].every((m) => m.body.startsWith('【财富管理月】'))).toBe(true);
      const [failed] =
        await db.sql`select d.status, d.error from deliveries d join customers c on c.id = d.customer_id where d.wave = 'sms' and c.external_id = 'L2'`;
      expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/^Twilio 21610/) });
      expect(await db.sql`select reason from suppressions where channel = 'sms' and address = ${stopped}`).toEqual([
        { reason: 'sms_stop' },
      ]);
    } finally {
      await sandbox.close();
    }
  });

  it('keeps to a rate limit', async () => {
    const t = Date.now();
    const result = await sendBatch(spec('paced'), deps({ ratePerSecond: 10, concurrency: 4 }));
    expect(result.sent).toBe(3);
    // Three messages at ten a second take at least two intervals.
    expect(Date.now() - t).toBeGreaterThanOrEqual(190);
  });
});
