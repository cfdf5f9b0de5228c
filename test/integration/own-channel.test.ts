// The activity factory takes its channels from whoever builds it: a batch sends through the
// channel it is handed (here one of the test's own), and the ledger records that channel's ids.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.ts';
import type { Channel, OutgoingMessage } from '../../pipeline/send/channel.ts';
import { renderEmail, type LoadedTemplate } from '../../pipeline/render/templates.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { emailCampaign, seedEmailCustomers } from '../helpers/email-campaign.ts';

describe('channels handed to the activities (real PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a batch sends through the channel the factory was given, rendered by the wave template, and records its ids', async () => {
    await seedEmailCustomers(db.sql, 'OC', 9);
    const { campaignId } = await emailCampaign(db.sql, tempDir('mailroom-own-channel-'), 'own-channel', 'OC');
    const seen: { to: string | null; subject: string; deliveryId: number }[] = [];
    let closed = 0;
    const requests: string[] = [];
    const activities = createActivities({
      sql: db.sql,
      campaign: { secret: 's', trackingUrl: 'https://go.example.com' },
      channels: {
        email: ({ campaign, wave, template }): Channel => {
          requests.push(`${campaign.slug}/${wave.name}`);
          return {
            name: 'email',
            async send(message: OutgoingMessage) {
              const t = template(message.context.variant) as Extract<LoadedTemplate, { channel: 'email' }>;
              seen.push({
                to: message.context.customer.email,
                subject: renderEmail(t, message.context).subject,
                deliveryId: message.deliveryId,
              });
              return { providerId: `own-${message.deliveryId}` };
            },
            async close() {
              closed++;
            },
          };
        },
      },
    });
    const snap = await activities.snapshotCampaign({ campaignId, batchSize: 100 });
    expect(snap.contactable).toBe(9);
    const [from, to] = snap.ranges[0]!;
    const result = await new MockActivityEnvironment().run(activities.sendWaveBatch, {
      campaignId,
      wave: 'hello',
      from,
      to,
    });
    expect(result).toMatchObject({ planned: 9, sent: 9, failed: 0 });
    expect(requests).toEqual(['own-channel/hello']);
    expect(closed).toBe(1);
    expect(seen.map((m) => m.to).sort()).toEqual(Array.from({ length: 9 }, (_, i) => `oc${i + 1}@example.com`).sort());
    expect(seen.every((m) => m.subject.length > 0)).toBe(true);
    const ledger = await db.sql<
      { id: number; provider_id: string; status: string }[]
    >`select id, provider_id, status from deliveries where campaign_id = ${campaignId}`;
    expect(ledger).toHaveLength(9);
    for (const row of ledger) expect(row).toMatchObject({ status: 'sent', provider_id: `own-${row.id}` });
  });

  it("a worker without the wave's channel fails the batch with a retryable error naming the setting", async () => {
    await seedEmailCustomers(db.sql, 'NC', 2);
    const { campaignId } = await emailCampaign(db.sql, tempDir('mailroom-no-channel-'), 'no-channel', 'NC');
    const activities = createActivities({
      sql: db.sql,
      campaign: { secret: 's', trackingUrl: 'https://go.example.com' },
      channels: {},
    });
    const snap = await activities.snapshotCampaign({ campaignId, batchSize: 100 });
    const [from, to] = snap.ranges[0]!;
    const failure = await new MockActivityEnvironment()
      .run(activities.sendWaveBatch, { campaignId, wave: 'hello', from, to })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('SMTP_URL');
    expect((failure as { nonRetryable?: boolean }).nonRetryable).toBeUndefined();
  });
});
