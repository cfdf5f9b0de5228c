// A campaign's final summary, from the ledger and the responses: per wave what was sent, failed
// or left uncertain and what it cost; responders among the contacted and among the holdout (the
// rates whose difference is the lift). Stored on the campaign row and returned to the workflow,
// counts only.
import type { Sql } from '../../db/connection.ts';
import type { LoadedCampaign } from '../campaign/campaign-file.ts';
import { storeSummary } from '../campaign/campaigns-table.ts';

export interface WaveSummary {
  wave: string;
  channel: string;
  sent: number;
  failed: number;
  uncertain: number;
  printed_unconfirmed: number;
  /** In the campaign's currency, from the wave's cost_per_piece. */
  cost: number;
}

export interface CampaignSummary {
  currency: string;
  budget: number | null;
  cost: number;
  contacted: number;
  responders: number;
  holdout: number;
  holdout_responders: number;
  /** Responders / contacted, and the same for the holdout. */
  response_rate: number;
  holdout_rate: number;
  responses: Record<string, number>;
  waves: WaveSummary[];
}

const rate = (n: number, d: number) => (d ? Math.round((n / d) * 10_000) / 10_000 : 0);

export async function summarizeCampaign(
  sql: Sql,
  campaign: LoadedCampaign,
  campaignId: number,
  status: 'completed' | 'cancelled',
): Promise<CampaignSummary> {
  const waves = await sql<
    { wave: string; channel: string; sent: number; failed: number; uncertain: number; printed: number }[]
  >`
    select wave, channel, count(*) filter (where status = 'sent')::int as sent, count(*) filter (where status = 'failed')::int as failed,
           count(*) filter (where status = 'uncertain')::int as uncertain, count(*) filter (where status = 'printed')::int as printed
    from deliveries where campaign_id = ${campaignId} group by wave, channel`;
  const [people] = await sql<{ contacted: number; responders: number; holdout: number; holdout_responders: number }[]>`
    with responders as (
      select distinct customer_id from responses where campaign_id = ${campaignId} and kind = any(${campaign.responseKinds}::text[]))
    select
      (select count(distinct customer_id)::int from deliveries where campaign_id = ${campaignId} and status = 'sent') as contacted,
      (select count(*)::int from responders r where exists (select 1 from deliveries d where d.campaign_id = ${campaignId} and d.customer_id = r.customer_id and d.status = 'sent')) as responders,
      (select count(*)::int from campaign_members where campaign_id = ${campaignId} and holdout) as holdout,
      (select count(*)::int from campaign_members m join responders r using (customer_id) where m.campaign_id = ${campaignId} and m.holdout) as holdout_responders`;
  const kinds = await sql<
    { kind: string; n: number }[]
  >`select kind, count(*)::int as n from responses where campaign_id = ${campaignId} group by kind order by kind`;
  const perWave: WaveSummary[] = campaign.waves.map((w) => {
    const row = waves.find((r) => r.wave === w.name);
    const sent = row?.sent ?? 0;
    // Printed pieces cost money whether or not their posting was confirmed.
    const pieces = sent + (row?.printed ?? 0);
    const unitMinor = Math.round((w.cost_per_piece ?? 0) * 100); // money in minor units
    return {
      wave: w.name,
      channel: w.channel,
      sent,
      failed: row?.failed ?? 0,
      uncertain: row?.uncertain ?? 0,
      printed_unconfirmed: row?.printed ?? 0,
      cost: (pieces * unitMinor) / 100,
    };
  });
  const p = people!;
  const summary: CampaignSummary = {
    currency: campaign.currency,
    budget: campaign.budget ?? null,
    cost: perWave.reduce((s, w) => s + Math.round(w.cost * 100), 0) / 100,
    contacted: p.contacted,
    responders: p.responders,
    holdout: p.holdout,
    holdout_responders: p.holdout_responders,
    response_rate: rate(p.responders, p.contacted),
    holdout_rate: rate(p.holdout_responders, p.holdout),
    responses: Object.fromEntries(kinds.map((k) => [k.kind, k.n])),
    waves: perWave,
  };
  await storeSummary(sql, campaignId, summary, status);
  return summary;
}
