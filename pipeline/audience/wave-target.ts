// Who a wave goes to among the campaign's contactable members: everyone, those who have not
// responded yet, those who have, or those in a (rules-only) segment as it stands at send time.
// A condition over the member `m` (customer_id) joined to `customers c`.
import type { Sql } from '../../db/connection.ts';
import type { LoadedCampaign, Wave } from '../campaign/campaign-file.ts';
import { compileRule, type Fragment } from './compile.ts';

export function waveTarget(sql: Sql, campaign: LoadedCampaign, campaignId: number, wave: Wave, asOf: Date): Fragment {
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
