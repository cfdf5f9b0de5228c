// The contact log on the real PostgreSQL: idempotent writes, a customer's history merged from the
// log, the deliveries ledger and the responses (`mailroom contacts`), and handing a manager's
// customers and open call tasks to another (`mailroom customers reassign`), logged.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { SECRET, createCampaignFixture, type Fixture } from '../helpers/calls-fixture.ts';
import { logContact } from '../../pipeline/contacts/contact-log.ts';
import { assignCallTasks, recordCallOutcome } from '../../pipeline/calls/call-tasks.ts';
import { recordResponse } from '../../pipeline/responses/record.ts';

describe('contact log', { timeout: 240_000 }, () => {
  let db: TestDatabase;
  let f: Fixture;
  const dir = tempDir('mailroom-contacts-');
  const env = () => ({ DATABASE_URL: db.url, MAILROOM_SECRET: SECRET });

  beforeAll(async () => {
    db = await createTestDatabase();
    f = await createCampaignFixture(db.sql, 'contacts-test', { dir });
    await assignCallTasks(db.sql, {
      campaignId: f.campaignId,
      wave: 'calls',
      fromCustomerId: 0,
      toCustomerId: Number.MAX_SAFE_INTEGER,
      unassigned: '网点主任',
      dueAt: null,
    });
  });
  afterAll(() => db.drop());

  it('writes a contact once per natural key', async () => {
    const entry = {
      customerId: f.ids.W3!,
      campaignId: f.campaignId,
      occurredAt: new Date('2026-11-20T02:00:00Z'),
      channel: 'visit' as const,
      actor: '陈志强',
      purpose: '上门拜访',
      outcome: '了解理财需求',
      nextStep: '月初电话邀约',
      note: '客户下月有定期到期',
      naturalKey: 'card:2026-11-20:W3',
    };
    expect(await logContact(db.sql, entry)).toBe(true);
    expect(await logContact(db.sql, entry)).toBe(false);
    const rows =
      await db.sql`select actor, purpose, next_step from contact_log where natural_key = 'card:2026-11-20:W3'`;
    expect(rows).toEqual([{ actor: '陈志强', purpose: '上门拜访', next_step: '月初电话邀约' }]);
  });

  it("shows a customer's history across campaigns in time order: letter, response, call", async () => {
    const id = f.ids.W1!;
    // The letter posted on 1 December (ledger), a PURL visit on the 2nd (responses), the call on the 3rd (log).
    await db.sql`insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
                 values (${f.campaignId}, 'letter', ${id}, 'mail', 'sent', '2026-12-01T01:00:00Z')`;
    await db.sql`insert into deliveries (campaign_id, wave, customer_id, channel, status)
                 values (${f.campaignId}, 'reminder', ${id}, 'email', 'failed')`;
    await recordResponse(db.sql, {
      campaignId: f.campaignId,
      customerId: id,
      deliveryId: null,
      kind: 'purl_visit',
      source: 'tracking',
      dedupeKey: `purl:${id}`,
    });
    await db.sql`update responses set occurred_at = '2026-12-02T03:00:00Z' where dedupe_key = ${`purl:${id}`}`;
    await recordCallOutcome(db.sql, {
      campaignId: f.campaignId,
      customerId: id,
      outcome: 'appointment',
      appointmentAt: new Date('2026-12-04T02:00:00Z'),
      occurredAt: new Date('2026-12-03T01:30:00Z'),
      source: 'api',
      key: 'contacts-test:W1',
    });
    const byExternal = await runCli(['contacts', `${f.slug}-W1`, '--json'], env());
    expect(byExternal.code, byExternal.stderr).toBe(0);
    const out = JSON.parse(byExternal.stdout) as {
      customer: { account_manager: string };
      contacts: Record<string, unknown>[];
    };
    expect(out.customer.account_manager).toBe('周敏');
    expect(out.contacts.map((c) => [c.at, c.channel, c.source, c.who])).toEqual([
      ['2026-12-01T01:00:00.000Z', 'mail', 'delivery', 'system'],
      ['2026-12-02T03:00:00.000Z', 'response', 'response', 'customer'],
      ['2026-12-03T01:30:00.000Z', 'call', 'log', '周敏'],
    ]);
    // The appointment response is shown once, as the call that booked it; the failed email not at all.
    expect(out.contacts[2]).toMatchObject({
      outcome: 'appointment',
      next_step: 'branch visit 2026-12-04T02:00:00.000Z',
      campaign: f.slug,
    });
    const byId = await runCli(['contacts', String(id)], env());
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stdout).toContain('王建华');
    expect(byId.stdout).toContain('branch visit 2026-12-04T02:00:00.000Z');
    const unknown = await runCli(['contacts', 'NO-SUCH-CUSTOMER'], env());
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no customer has the external id or id "NO-SUCH-CUSTOMER"');
  });

  it("hands one segment of a manager's customers, with their open tasks, to another, logged", async () => {
    const segments = join(dir, 'segments.yaml');
    writeFileSync(segments, "segments:\n  largest:\n    rules: { field: financial_assets, op: '>', value: 999997 }\n");
    const run = await runCli(
      [
        'customers',
        'reassign',
        '--from',
        '陈志强',
        '--to',
        '李晓燕',
        '--segment',
        'largest',
        '--file',
        segments,
        '--json',
      ],
      env(),
    );
    expect(run.code, run.stderr).toBe(0);
    // Of 陈志强's W3 (999997) and W4 (999996) neither is above 999997: nothing moves.
    expect(JSON.parse(run.stdout)).toMatchObject({ customers: 0, tasks: 0 });
    writeFileSync(segments, "segments:\n  largest:\n    rules: { field: financial_assets, op: '>=', value: 999997 }\n");
    const again = await runCli(
      [
        'customers',
        'reassign',
        '--from',
        '陈志强',
        '--to',
        '李晓燕',
        '--segment',
        'largest',
        '--file',
        segments,
        '--json',
      ],
      env(),
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ customers: 1, tasks: 1 });
    const managers = await db.sql<{ external_id: string; manager: string; task_manager: string }[]>`
      select c.external_id, c.attributes ->> 'account_manager' as manager, t.manager as task_manager
      from customers c join call_tasks t on t.customer_id = c.id where c.id in (${f.ids.W3!}, ${f.ids.W4!}) order by c.id`;
    expect(managers).toEqual([
      { external_id: `${f.slug}-W3`, manager: '李晓燕', task_manager: '李晓燕' },
      { external_id: `${f.slug}-W4`, manager: '陈志强', task_manager: '陈志强' },
    ]);
  });

  it("hands all of a departing manager's customers on; settled tasks stay with who settled them", async () => {
    const run = await runCli(['customers', 'reassign', '--from', '周敏', '--to', '王建国'], env());
    expect(run.code, run.stderr).toBe(0);
    // W1, W2 and the holdout W7 are 周敏's; W1's task is settled, W2's open, W7 has none.
    expect(run.stdout).toContain('3 customers and 1 open call tasks handed from 周敏 to 王建国');
    const tasks = await db.sql<{ customer_id: number; manager: string }[]>`
      select customer_id, manager from call_tasks where customer_id in (${f.ids.W1!}, ${f.ids.W2!}) order by customer_id`;
    expect(tasks.map((t) => t.manager)).toEqual(['周敏', '王建国']);
    const handovers = await db.sql<{ customer_id: number; actor: string; purpose: string }[]>`
      select customer_id, actor, purpose from contact_log where channel = 'handover' and purpose like '%周敏%' order by customer_id`;
    expect(handovers.map((h) => h.customer_id)).toEqual([f.ids.W1, f.ids.W2, f.ids.W7]);
    expect(handovers[0]).toMatchObject({ actor: '王建国', purpose: 'account manager 周敏 → 王建国' });
    const history = await runCli(['contacts', `${f.slug}-W2`, '--json'], env());
    const contacts = (JSON.parse(history.stdout) as { contacts: { channel: string }[] }).contacts;
    expect(contacts.at(-1)).toMatchObject({ channel: 'handover', who: '王建国', next_step: 'call (wave calls)' });
    const usage = await runCli(['customers', 'reassign', '--from', '周敏', '--to', '周敏'], env());
    expect(usage.code).toBe(2);
  });
});
