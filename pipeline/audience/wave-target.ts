// Who a wave goes to among the campaign's contactable members: everyone, those who have not
// responded yet, those who have, or those in a (rules-only) segment as it stands at send time.
// A condition over the member `m` (customer_id) joined to `customers c`. A wave run for one cohort
// of the campaign (the launch snapshot is cohort 1, the fallback adds cohort 2) takes its members only.
import type { Sql } from '../../db/connection.ts';
import type { LoadedCampaign, Wave } from '../campaign/campaign-file.ts';
import { compileRule, type Fragment } from './compile.ts';

/** A wave as run for one cohort of the campaign's members. */
export type CohortWave = Wave & { cohort?: number | undefined };

export function waveTarget(
  sql: Sql,
  campaign: LoadedCampaign,
  campaignId: number,
  wave: CohortWave,
  asOf: Date,
): Fragment {
  const target = whoOf(sql, campaign, campaignId, wave, asOf);
  return wave.cohort === undefined ? target : sql`(m.cohort = ${wave.cohort}::int and ${target})`;
}

function whoOf(sql: Sql, campaign: LoadedCampaign, campaignId: number, wave: Wave, asOf: Date): Fragment {
  const responded = sql`exists (select 1 from responses r
    where r.campaign_id = ${campaignId} and r.customer_id = m.customer_id and r.kind = any(${campaign.responseKinds}::text[]))`;
  switch (wave.to) {
    case 'all':
      return sql`true`;
    case 'responders':
      return responded;
    case 'non-responders':
      return sql`not ${responded}`;
    default:
      // The campaign file checked that the segment exists and is defined by rules alone.
      return compileRule({ sql, registry: campaign.registry, asOf }, { kind: 'segment', name: wave.to });
  }
}
