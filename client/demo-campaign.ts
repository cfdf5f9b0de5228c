// The demo's whole campaign: the sample campaign under a fresh name, launched on the seeded
// customers and followed to its end. Demo mode does what people would do over weeks: it confirms
// the letters as posted, records a share of simulated responses (so the reminder goes to the
// non-responders only), and skips the waits between waves and the response window.
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/connection.ts';
import type { LoadedCampaign } from '../pipeline/campaign/campaign-file.ts';
import { confirmMailing, controlCampaign, launchCampaign, type LaunchOptions } from './api.ts';
import { followCampaign } from './follow.ts';
import { insertResponsesFrom } from '../pipeline/responses/record.ts';

/** The share of posted letters that get a simulated response (a PURL visit or a QR scan). */
const SIMULATED_RESPONSE_RATE = 0.12;
/** Customers also buy without being asked: the held-out members' simulated baseline (orders). */
const SIMULATED_BASELINE_RATE = 0.04;
/** Of the treated: branch visits, comparable with the holdout's orders (the lift the report measures). */
const SIMULATED_VISIT_RATE = 0.1;

export async function runDemoCampaign(
  sql: Sql,
  client: Client,
  sample: LoadedCampaign,
  opts: LaunchOptions & { say: (line: string) => void; now: Date },
) {
  const stamp = opts.now.toISOString().replace(/[-:T]/g, '').slice(0, 12);
  const campaign: LoadedCampaign = { ...sample, slug: `demo-${sample.slug}-${stamp}`.slice(0, 63) };
  const launched = await launchCampaign(sql, client, campaign, {
    ...opts,
    // The demo runs on this machine: its links go to the local tracking server on purpose.
    allowLocalLinks: true,
    tuning: { deferRetryMs: 60_000 },
  });
  opts.say(
    `Launched ${campaign.slug}: ${launched.counts.contactable} to contact, ${launched.counts.holdout} held out.`,
  );
  const acted = new Set<string>();
  let quietOnly = false;
  const final = await followCampaign(client, campaign.slug, {
    intervalMs: 500,
    onProgress: async (p) => {
      for (const w of p.waves) {
        if (w.status === 'awaiting_confirmation' && !acted.has(w.name)) {
          acted.add(w.name);
          await confirmMailing(client, campaign.slug, w.name);
          const simulated = await simulateResponses(sql, campaign.slug, w.name);
          opts.say(`Demo: confirmed wave ${w.name} as posted today; simulated ${simulated} responses.`);
        }
        // Only members in their quiet hours are left: they go when the hours end, not now.
        if (w.status === 'sending' && w.deferred > 0 && w.sent + w.failed + w.suppressed >= w.planned - w.deferred)
          quietOnly = true;
      }
      const waiting = p.waves.find((w) => w.status === 'waiting');
      if ((waiting || p.status === 'response_window') && !quietOnly)
        await controlCampaign(client, campaign.slug, 'skip-wait');
      return quietOnly ? 'stop' : undefined;
    },
  });
  return { slug: campaign.slug, final, heldForQuietHours: quietOnly };
}

async function simulateResponses(sql: Sql, slug: string, wave: string): Promise<number> {
  const rows = await insertResponsesFrom(
    sql,
    sql`
    select d.campaign_id, d.customer_id, d.id, case when d.id % 2 = 0 then 'purl_visit' else 'qr_scan' end, 'demo',
           'demo:' || d.id, now()
    from deliveries d join campaigns c on c.id = d.campaign_id
    where c.slug = ${slug} and d.wave = ${wave} and d.status = 'sent'
      and mailroom_hash_unit(${slug} || ':' || d.customer_id::text) < ${SIMULATED_RESPONSE_RATE}`,
  );
  const baseline = await insertResponsesFrom(
    sql,
    sql`
    select m.campaign_id, m.customer_id, null, 'order', 'demo', 'demo:holdout:' || m.campaign_id || ':' || m.customer_id, now()
    from campaign_members m join campaigns c on c.id = m.campaign_id
    where c.slug = ${slug} and m.holdout and mailroom_hash_unit(${slug} || ':' || m.customer_id::text) < ${SIMULATED_BASELINE_RATE}`,
  );
  // Branch visits, which the holdout can make as well: the responses the report's lift compares.
  // Most who scanned the letter come to the branch; so do a few of the others, as in the holdout.
  const visits = await insertResponsesFrom(
    sql,
    sql`
    select d.campaign_id, d.customer_id, null, 'branch_visit', 'demo', 'demo:visit:' || d.campaign_id || ':' || d.customer_id, now()
    from deliveries d join campaigns c on c.id = d.campaign_id
    where c.slug = ${slug} and d.wave = ${wave} and d.status = 'sent'
      and mailroom_hash_unit(${slug} || ':' || d.customer_id::text) < ${SIMULATED_VISIT_RATE}`,
  );
  return rows + baseline + visits;
}
