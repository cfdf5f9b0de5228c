// Quiet hours hold SMS back per member, in the member's own time zone, and never drop anyone:
// half the audience lives in UTC, inside a quiet window that ends at the next minute boundary;
// the other half lives in Shanghai, eight hours away and outside it. Real Temporal, PostgreSQL,
// the real twilio SDK and the Twilio sandbox.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { campaignWorkflowInput, registerCampaign } from '../../client/api.ts';
import { inQuietHours } from '../../pipeline/send/quiet-hours.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../dev/twilio-sandbox.ts';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import { progressQuery } from '../../workflows/contract.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

const PER_ZONE = 20;
const hhmm = (minutes: number) => {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

describe('quiet hours (real Temporal, PostgreSQL, twilio SDK and Twilio sandbox)', () => {
  let db: TestDatabase;
  let sandbox: TwilioSandbox;
  let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;
  const target = testTarget();
  const dir = tempDir('mailroom-quiet-');

  beforeAll(async () => {
    db = await createTestDatabase();
    sandbox = await startTwilioSandbox(join(dir, 'sms'), { port: await anyFreePort() });
    // Alternating time zones, so that every batch holds members of both.
    await db.sql`insert into customers (external_id, full_name, family_name, gender, phone, timezone)
                 select 'Q' || i, '张' || i, '张', 'male', '+86139' || lpad(i::text, 8, '0'), case when i % 2 = 0 then 'UTC' else 'Asia/Shanghai' end
                 from generate_series(1, ${2 * PER_ZONE}) as i`;
    await db.sql`insert into consents (customer_id, channel, status, source) select id, 'sms', 'granted', 't' from customers`;
    worker = await startTestWorker(db.url, target, {
      secret: 's',
      trackingUrl: 'https://go.example.com',
      from: 'Mailroom <m@example.com>',
      twilio: {
        accountSid: sandbox.accountSid,
        authToken: sandbox.authToken,
        sandboxUrl: sandbox.url,
        from: '+15005550006',
      },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  it('holds back the members inside their quiet hours, shows them deferred, and sends them once the hours end', async () => {
    // A quiet window around the current UTC minute, ending at the next minute boundary; with too
    // little of the minute left to watch, start at the next one.
    if (60_000 - (Date.now() % 60_000) < 15_000)
      await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 200));
    const start = new Date();
    const windowEnds = Math.ceil(start.getTime() / 60_000) * 60_000;
    const utcMinute = start.getUTCHours() * 60 + start.getUTCMinutes();
    const quiet = { from: hhmm(utcMinute - 1), to: hhmm(utcMinute + 1) };
    // The premise: UTC is inside the window now and outside when it ends; Shanghai is outside.
    expect(inQuietHours(start, 'UTC', quiet)).toBe(true);
    expect(inQuietHours(new Date(windowEnds), 'UTC', quiet)).toBe(false);
    expect(inQuietHours(start, 'Asia/Shanghai', quiet)).toBe(false);

    const file = join(dir, 'quiet.yaml');
    writeFileSync(
      file,
      [
        'name: quiet-hours-test',
        'audience: { rules: { field: external_id, op: starts_with, value: Q }, channel: sms }',
        'response_window: 0s',
        'waves:',
        `  - { name: text, channel: sms, template: wealth-last-call-sms, quiet_hours: { from: '${quiet.from}', to: '${quiet.to}' } }`,
      ].join('\n'),
    );
    const campaign = loadCampaign(file);
    const campaignId = await registerCampaign(db.sql, campaign);
    const phones = await db.sql<
      { id: number; phone: string; timezone: string }[]
    >`select id, phone, timezone from customers order by id`;
    const quietPhones = new Set(phones.filter((p) => p.timezone === 'UTC').map((p) => p.phone));
    const sentTo = () => [...sandbox.messages.values()].map((m) => m.to);

    const handle = await worker!.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `campaign-quiet-hours-test-${Date.now()}`,
      args: [campaignWorkflowInput(campaign, campaignId, { batchSize: 10, concurrency: 4, deferRetryMs: 2000 })],
    });

    // Inside the window: the Shanghai half is sent, the UTC half is deferred, and stays so.
    let progress = await handle.query(progressQuery);
    let checks = 0;
    while (Date.now() < windowEnds - 1000) {
      progress = await handle.query(progressQuery);
      const wave = progress.waves[0]!;
      expect(sentTo().filter((p) => quietPhones.has(p))).toEqual([]);
      expect(
        await db.sql`select d.id from deliveries d join customers c on c.id = d.customer_id where c.timezone = 'UTC'`,
      ).toEqual([]);
      expect(wave.sent).toBeLessThanOrEqual(PER_ZONE);
      expect(wave.deferred).toBeLessThanOrEqual(PER_ZONE);
      // (While a deferred batch is being tried again its members drop out of `deferred` for a moment.)
      if (wave.sent === PER_ZONE && wave.deferred === PER_ZONE) {
        expect(wave).toMatchObject({ status: 'sending', failed: 0 });
        checks++;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    // The deferred state was seen, more than once, before the window ended.
    expect(checks).toBeGreaterThanOrEqual(2);
    expect(new Set(sentTo())).toEqual(new Set(phones.filter((p) => p.timezone !== 'UTC').map((p) => p.phone)));

    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.waves[0]).toMatchObject({
      status: 'done',
      planned: 2 * PER_ZONE,
      sent: 2 * PER_ZONE,
      deferred: 0,
      failed: 0,
      uncertain: 0,
    });
    // Everyone exactly once; the quiet half only after the window ended.
    const to = sentTo();
    expect(to).toHaveLength(2 * PER_ZONE);
    expect(new Set(to)).toEqual(new Set(phones.map((p) => p.phone)));
    const quietSends = await db.sql<{ sent_at: Date }[]>`
      select d.sent_at from deliveries d join customers c on c.id = d.customer_id where c.timezone = 'UTC' and d.status = 'sent'`;
    expect(quietSends).toHaveLength(PER_ZONE);
    for (const s of quietSends) expect(s.sent_at.getTime()).toBeGreaterThanOrEqual(windowEnds);
    console.info(
      `quiet-hours: window ${quiet.from}-${quiet.to} UTC, ${Math.round((windowEnds - start.getTime()) / 1000)} s of it left at the start; deferred seen ${checks} times; ` +
        `quiet half sent ${Math.round((Math.max(...quietSends.map((s) => s.sent_at.getTime())) - windowEnds) / 100) / 10} s after the window ended at the latest`,
    );
  }, 110_000);
});
