// The ledger when things go wrong under a batch (real PostgreSQL and SMTP server): one statement
// failing in the database stops the whole batch, which fails only once nothing it started can
// still write, and a retry then sends every member exactly once; and however a batch is
// interrupted, the rows it holds 'pending' — what a crash at any moment would leave — never exceed
// its concurrency.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotAudience } from '../../pipeline/audience/snapshot.ts';
import { builtinSegments } from '../../pipeline/audience/segments.ts';
import { parseRule } from '../../pipeline/audience/rules.ts';
import type { LoadedCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { contextFor } from '../../pipeline/render/context.ts';
import { loadTemplate, resolveTemplateDir } from '../../pipeline/render/templates.ts';
import type { Channel } from '../../pipeline/send/channel.ts';
import { createEmailChannel } from '../../pipeline/send/email-channel.ts';
import { sendBatch, type BatchDeps } from '../../pipeline/send/ledger.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { messagesAt, seedEmailCustomers } from '../helpers/email-campaign.ts';

const MEMBERS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the deliveries ledger under faults (real PostgreSQL and SMTP server)', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let campaignId: number;
  let ids: number[];
  const outbox = join(tempDir('mailroom-ledger-faults-'), 'outbox');
  const template = loadTemplate(resolveTemplateDir('wealth-reminder-email', '.'));
  if (template.channel !== 'email') throw new Error('expected an email template');
  const campaign = { slug: 'ledger-faults', title: 'Ledger faults', offers: {}, dir: '.' } as unknown as LoadedCampaign;
  const opened: Channel[] = [];

  /** The SMTP channel with its message lookup; each wave names its messages by its own slug. */
  const email = (slug: string) => {
    const c = createEmailChannel({
      smtpUrl: sink.url,
      lookupUrl: sink.lookupUrl,
      from: 'Mailroom <m@example.com>',
      campaignSlug: slug,
      trackingUrl: 'https://go.example.com',
      secret: 's',
      template: () => template,
    });
    opened.push(c);
    return c;
  };
  /**
   * The channel as a batch sees it, watched: how many messages are in its hands at once, and any
   * call made after the test said the batch had settled. Each send takes a little longer than the
   * sink alone, so that several groups are on their way together.
   */
  const watched = (inner: Channel) => {
    const w = { inFlight: 0, peak: 0, afterSettled: 0, settled: false };
    const channel: Channel = {
      name: inner.name,
      async send(m) {
        if (w.settled) w.afterSettled++;
        w.peak = Math.max(w.peak, ++w.inFlight);
        try {
          await sleep(20);
          return await inner.send(m);
        } finally {
          w.inFlight--;
        }
      },
      async recover(m) {
        if (w.settled) w.afterSettled++;
        return inner.recover!(m);
      },
      close: () => inner.close(),
    };
    return { channel, watch: w };
  };
  const deps = (channel: Channel, overrides: Partial<BatchDeps> = {}): BatchDeps => ({
    sql: db.sql,
    channel,
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
  /** Everything about a wave's rows that a write would change. */
  const ledgerOf = (wave: string) =>
    db.sql`select id, customer_id, status, provider_id, recovery, attempts, error, updated_at
           from deliveries where wave = ${wave} order by id`;
  const pendingIn = async (wave: string) =>
    (
      await db.sql<
        { n: number }[]
      >`select count(*)::int as n from deliveries where wave = ${wave} and status = 'pending'`
    )[0]!.n;
  const filesOf = (slug: string) => messagesAt(outbox).files.filter((f) => f.includes(`.${slug}@mailroom`));

  /** Every member has one 'sent' row and exactly one message at the server, under its own Message-ID. */
  const exactlyOnce = async (wave: string, slug: string) => {
    const rows = await db.sql<
      { id: number; status: string; email: string }[]
    >`select d.id, d.status, c.email from deliveries d join customers c on c.id = d.customer_id where d.wave = ${wave}`;
    expect(rows).toHaveLength(MEMBERS);
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
    const files = filesOf(slug);
    expect(files.filter((f) => /\.\d+\.eml$/.test(f))).toEqual([]); // no second copy of any Message-ID
    expect(new Set(files)).toEqual(new Set(rows.map((r) => `d${r.id}.${slug}@mailroom.eml`)));
    const at = messagesAt(outbox);
    const recipients = at.recipients.filter((_, i) => at.files[i]!.includes(`.${slug}@mailroom`)).sort();
    expect(recipients).toEqual(rows.map((r) => r.email).sort());
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(outbox, { port: await anyFreePort(), lookupPort: 0 });
    const sql = db.sql;
    await seedEmailCustomers(sql, 'F', MEMBERS);
    ids = (await sql<{ id: number }[]>`select id from customers order by id`).map((r) => r.id);
    const [c] = await sql<
      { id: number }[]
    >`insert into campaigns (slug, name, spec, workflow_id) values ('ledger-faults', 'F', '{}', 'campaign-ledger-faults') returning id`;
    campaignId = c!.id;
    await snapshotAudience({ sql, registry: builtinSegments(), asOf: new Date() }, campaignId, {
      segment: { name: 'all', rules: parseRule({ field: 'external_id', op: 'starts_with', value: 'F' }), origin: 't' },
      channel: 'email',
      holdoutPercent: 0,
      variants: [],
      onePerHousehold: false,
    });
    // A fault the test arms: the database refuses one statement that writes a given member's row
    // in a given state (an insert as 'pending', an update to 'sent').
    await sql`create table test_faults (wave text, customer_id bigint, status text)`;
    await sql`create function test_fault() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from test_faults f where f.wave = new.wave and f.customer_id = new.customer_id and f.status = new.status) then
          raise exception 'the database failed under the batch (test fault)';
        end if;
        return new;
      end $$`;
    await sql`create trigger test_fault before insert or update on deliveries for each row execute function test_fault()`;
    // After every statement on the ledger, its pending rows per wave, counted one committing
    // statement at a time (the lock is held to the commit): every state a crash could leave.
    await sql`create table pending_counts (wave text, n int)`;
    await sql`create function count_pending() returns trigger language plpgsql as $$
      begin
        perform pg_advisory_xact_lock(813);
        insert into pending_counts (wave, n)
          select wave, count(*) filter (where status = 'pending') from deliveries group by wave;
        return null;
      end $$`;
    await sql`create trigger count_pending after insert or update or delete on deliveries
              for each statement execute function count_pending()`;
  });
  afterAll(async () => {
    for (const c of opened) await c.close();
    await sink?.close();
    await db?.drop();
  });
  const peakPending = async (wave: string) =>
    (await db.sql<{ n: number }[]>`select coalesce(max(n), 0)::int as n from pending_counts where wave = ${wave}`)[0]!
      .n;

  /**
   * Runs a batch that fails, settles it as the activity does (its channel closed), and shows that
   * from then on nothing is sent and no ledger row is written or changed.
   */
  const failsAndStops = async (wave: string, slug: string, overrides: Partial<BatchDeps> = {}) => {
    const w = watched(email(slug));
    const error = await sendBatch(spec(wave), deps(w.channel, overrides)).then(
      () => undefined,
      (e: unknown) => e,
    );
    w.watch.settled = true;
    await w.channel.close();
    expect(String(error)).toMatch(/the database failed under the batch/);
    const ledger = await ledgerOf(wave);
    const files = filesOf(slug);
    // Some members were sent before the fault, far from all: the other lanes stopped.
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBeLessThan(MEMBERS);
    await sleep(1500);
    expect(w.watch.afterSettled).toBe(0);
    expect(await ledgerOf(wave)).toEqual(ledger);
    expect(filesOf(slug)).toEqual(files);
    return { ledger, files };
  };

  it('a pending insert refused by the database: the batch fails once every lane has stopped, and a retry sends every member once', async () => {
    await db.sql`insert into test_faults values ('insert-fails', ${ids[40]!}, 'pending')`;
    const { ledger } = await failsAndStops('insert-fails', 'insert-fails');
    // The refused group never went pending; the others' outcomes are recorded.
    expect(ledger.filter((r) => r.status === 'pending')).toEqual([]);
    await db.sql`delete from test_faults`;
    const retry = await sendBatch(spec('insert-fails'), deps(email('insert-fails')));
    expect(retry).toMatchObject({ planned: MEMBERS, failed: 0, uncertain: 0, skipped: ledger.length });
    expect(retry.totals).toEqual({ sent: MEMBERS, failed: 0, uncertain: 0, recovered: 0 });
    await exactlyOnce('insert-fails', 'insert-fails');
  });

  it('a sent update refused by the database: its group stays pending, nothing else moves, and the retry finds those messages instead of sending them again', async () => {
    await db.sql`insert into test_faults values ('sent-fails', ${ids[40]!}, 'sent')`;
    const { ledger } = await failsAndStops('sent-fails', 'sent-fails');
    // The messages of the refused group reached the server; their rows say pending, no more than
    // the batch's slots.
    const pending = ledger.filter((r) => r.status === 'pending');
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.length).toBeLessThanOrEqual(32);
    await db.sql`delete from test_faults`;
    const retry = await sendBatch(spec('sent-fails'), deps(email('sent-fails')));
    expect(retry).toMatchObject({ planned: MEMBERS, failed: 0, uncertain: pending.length });
    expect(retry.totals).toEqual({
      sent: MEMBERS,
      failed: 0,
      uncertain: pending.length,
      recovered: pending.length,
    });
    const recovered = await db.sql`select recovery from deliveries where wave = 'sent-fails' and recovery is not null`;
    expect(recovered.every((r) => r.recovery === 'found')).toBe(true);
    await exactlyOnce('sent-fails', 'sent-fails');
  });

  it('under a rate limit, lanes waiting for their slot start nothing once the batch has failed', async () => {
    // One message at a time, twenty a second: the other lanes hold slots up to a second ahead.
    await db.sql`insert into test_faults values ('paced-fails', ${ids[5]!}, 'pending')`;
    const { ledger } = await failsAndStops('paced-fails', 'paced-fails', { ratePerSecond: 20, concurrency: 16 });
    expect(ledger.filter((r) => r.status === 'pending')).toEqual([]);
    await db.sql`delete from test_faults`;
    await sendBatch(spec('paced-fails'), deps(email('paced-fails')));
    await exactlyOnce('paced-fails', 'paced-fails');
  });

  it('holds no more rows pending than its concurrency, also when that is not a multiple of the group', async () => {
    const w = watched(email('bound-20'));
    const result = await sendBatch(spec('bound-20'), deps(w.channel, { concurrency: 20 }));
    expect(result.sent).toBe(MEMBERS);
    expect(w.watch.peak).toBeLessThanOrEqual(20);
    expect(await peakPending('bound-20')).toBeGreaterThan(0);
    expect(await peakPending('bound-20')).toBeLessThanOrEqual(20);
    await exactlyOnce('bound-20', 'bound-20');
  });

  it('a retried batch settles the rows an interrupted send left pending before it starts new ones: never more pending than its slots', async () => {
    const wave = 'bound-retry';
    // What a crash left: 32 rows pending across the range, half of whose messages had reached the
    // server (the lookup finds those), half not (sent again under their Message-ID).
    const left = ids.filter((_, i) => i % 6 === 0).slice(0, 32);
    const before = email(wave);
    for (const [i, customerId] of left.entries()) {
      const [d] = await db.sql<{ id: number }[]>`
        insert into deliveries (campaign_id, wave, customer_id, channel, status)
        values (${campaignId}, ${wave}, ${customerId}, 'email', 'pending') returning id`;
      if (i % 2 === 1) continue;
      const [row] = await db.sql`
        select m.customer_id, c.*, m.rank, m.band, m.variant from campaign_members m join customers c on c.id = m.customer_id
        where m.campaign_id = ${campaignId} and m.customer_id = ${customerId}`;
      await before.send({ deliveryId: d!.id, context: deps(before).context(row as never) });
    }
    expect(await pendingIn(wave)).toBe(32);
    const w = watched(email(wave));
    const result = await sendBatch(spec(wave), deps(w.channel));
    expect(result).toMatchObject({ planned: MEMBERS, sent: MEMBERS, failed: 0, uncertain: 32 });
    expect(result.totals).toEqual({ sent: MEMBERS, failed: 0, uncertain: 32, recovered: 32 });
    expect(await peakPending(wave)).toBeLessThanOrEqual(32);
    expect(
      await db.sql`select recovery, count(*)::int as n from deliveries where wave = ${wave} and recovery is not null group by recovery order by recovery`,
    ).toEqual([
      { recovery: 'found', n: 16 },
      { recovery: 'resent', n: 16 },
    ]);
    await exactlyOnce(wave, wave);
  });
});
