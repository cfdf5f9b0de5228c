// The demo's whole campaign: the sample campaign under a fresh name, launched on the seeded
// customers and followed to its end. Demo mode does what people would do over weeks, through the
// functions their pages, sheets and imports use (demo-simulate.ts): the print shop posts the
// letters, customers scan them, account managers call and book visits, branch staff register the
// visits and hand out the gifts, the bank's systems hand over offline responses and orders. It
// skips the waits between waves, the fallback's check and the response window, prints the goals
// and the gift stock as they stand, and ends with the campaign report.
import { writeFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/connection.ts';
import type { LoadedCampaign } from '../pipeline/campaign/campaign-file.ts';
import {
  campaignDetails,
  confirmMailing,
  controlCampaign,
  launchCampaign,
  notifyCallsChanged,
  type CampaignState,
  type LaunchOptions,
} from './api.ts';
import { followCampaign } from './follow.ts';
import { giftStockTable } from './gift-stock-table.ts';
import { FINAL_WAVE_STATUSES, type WaveProgress } from '../workflows/contract.ts';
import { storedCampaign } from '../pipeline/calls/stored-campaign.ts';
import { giftStock } from '../pipeline/visits/branch-visit.ts';
import { runImport } from '../pipeline/customers/import/run-import.ts';
import { runResponseImport } from '../pipeline/responses/import/run.ts';
import { campaignReport, reportHtml } from '../pipeline/report/index.ts';
import { logger } from '../config/logger.ts';
import { simulateCalls, simulateScans, simulateVisits, writeOfflineFiles } from './demo-simulate.ts';

export interface DemoOptions extends LaunchOptions {
  say: (line: string) => void;
  now: Date;
  /** Where the offline files and the HTML report are written. */
  dir: string;
}

/** The goals against their pace, and the gifts handed out against the stock bought. */
async function printStanding(sql: Sql, slug: string, state: CampaignState, say: (line: string) => void) {
  const { goals } = await campaignDetails(sql, slug, state);
  for (const g of goals)
    say(
      `Goal ${g.goal === 'contact' ? 'contact every member' : `${g.target} ${g.kind}`}: ${g.done} of ${g.target} by ${g.by.slice(0, 10)} ` +
        `(pace now ${g.pace}: ${g.onPace ? 'on pace' : 'behind'})`,
    );
  const stock = await giftStock(sql, await storedCampaign(sql, slug));
  say(giftStockTable(stock));
}

export async function runDemoCampaign(sql: Sql, client: Client, sample: LoadedCampaign, opts: DemoOptions) {
  const stamp = opts.now.toISOString().replace(/[-:T]/g, '').slice(0, 12);
  const campaign: LoadedCampaign = { ...sample, slug: `demo-${sample.slug}-${stamp}`.slice(0, 63) };
  const slug = campaign.slug;
  const { say } = opts;
  const launched = await launchCampaign(sql, client, campaign, {
    ...opts,
    // The demo runs on this machine: its links go to the local tracking server on purpose.
    allowLocalLinks: true,
    tuning: { deferRetryMs: 60_000, callCheckMs: 5_000 },
  });
  say(`Launched ${slug}: ${launched.counts.contactable} to contact, ${launched.counts.holdout} held out.`);
  const acted = new Set<string>();
  let quietOnly = false;
  let callRounds = 0;
  const final = await followCampaign(client, slug, {
    intervalMs: 500,
    onProgress: async (p) => {
      const waves: WaveProgress[] = [...p.waves, ...(p.fallback?.cohorts.flatMap((c) => c.waves ?? []) ?? [])];
      for (const w of waves) {
        if (w.status === 'awaiting_confirmation' && !acted.has(`confirm:${w.name}`)) {
          acted.add(`confirm:${w.name}`);
          await confirmMailing(client, slug, w.name);
          const scans = await simulateScans(sql, slug, w.name);
          say(
            `Demo: the print shop posted wave ${w.name} today; ${scans} customers scanned its QR code or typed its link.`,
          );
        }
        if (w.channel === 'call' && w.status === 'calling') {
          const outcomes = await simulateCalls(sql, slug, new Date());
          if (Object.keys(outcomes).length) {
            callRounds++;
            await notifyCallsChanged(client, slug);
            say(
              `Demo: account managers' calls, round ${callRounds}: ${Object.entries(outcomes)
                .map(([o, n]) => `${n} ${o}`)
                .join(', ')}.`,
            );
          }
        }
        if (w.channel === 'call' && FINAL_WAVE_STATUSES.includes(w.status) && !acted.has(`visits:${w.name}`)) {
          acted.add(`visits:${w.name}`);
          const v = await simulateVisits(sql, await storedCampaign(sql, slug), opts.secret, new Date());
          say(
            `Demo: branch staff registered ${v.recorded} visits (${v.holdout} of them held-out customers, who get no gift)` +
              `${v.outOfStock ? `; ${v.outOfStock} refused a gift out of stock` : ''}. Goals and gifts now:`,
          );
          await printStanding(sql, slug, p, say);
        }
        // Only members in their quiet hours are left: they go when the hours end, not now.
        if (w.status === 'sending' && w.deferred > 0 && w.sent + w.failed + w.suppressed >= w.planned - w.deferred)
          quietOnly = true;
      }
      if (p.status === 'response_window' && !acted.has('imports')) {
        acted.add('imports');
        await importOffline(sql, slug, opts);
      }
      const ownDone = p.waves.every((w) => FINAL_WAVE_STATUSES.includes(w.status));
      const checkPending = p.fallback !== undefined && p.fallback.checked === undefined;
      // The wait before the next wave (later waves read 'waiting' too, but a skip now would cut the current wave short).
      const current = (ws: WaveProgress[]) => ws.find((w) => !FINAL_WAVE_STATUSES.includes(w.status));
      const waiting = [p.waves, ...(p.fallback?.cohorts.map((c) => c.waves ?? []) ?? [])].some(
        (ws) => current(ws)?.status === 'waiting',
      );
      if ((waiting || p.status === 'response_window' || (ownDone && checkPending)) && !quietOnly)
        await controlCampaign(client, slug, 'skip-wait');
      return quietOnly ? 'stop' : undefined;
    },
  });
  if (final.fallback?.checked) {
    const c = final.fallback.checked;
    say(
      `Fallback check: ${c.responses} visits against a pace of ${c.pace.toFixed(1)}: ${
        c.extended ? 'below pace, the audience was extended to the next ranks' : 'on pace, no extension needed'
      }.`,
    );
  }
  // The analyst's view, recomputed from the database: rates with intervals, lift, cost.
  const report = await campaignReport(sql, slug);
  const page = `${opts.dir}/report.html`;
  writeFileSync(page, await reportHtml(report));
  return { slug, final, heldForQuietHours: quietOnly, report, page };
}

/** The core system's orders and the counter's coupon redemptions, brought in as `mailroom import` does. */
async function importOffline(sql: Sql, slug: string, opts: DemoOptions) {
  const files = await writeOfflineFiles(sql, slug, opts.dir, new Date());
  const orders = await runImport(sql, { kind: 'orders', file: files.orders });
  opts.say(
    `Demo: imported ${orders.inserted} wealth-product orders from the core system (${files.holdoutOrders} by held-out customers): mailroom import orders ${files.orders}`,
  );
  const r = await runResponseImport(sql, {
    file: files.responses,
    source: 'branch-coupons',
    secret: opts.secret,
    log: logger(),
  });
  opts.say(
    `Demo: imported the counter's coupon redemptions: ${r.matched} matched (by phone ${r.matchedBy.phone}, by customer number ${r.matchedBy.customer}), ` +
      `${r.unmatched} unmatched${r.rejectsPath ? ` (${r.rejectsPath})` : ''}: mailroom import responses ${files.responses}`,
  );
}
