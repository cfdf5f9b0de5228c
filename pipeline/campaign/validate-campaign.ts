// Everything about a campaign that can be checked before anything starts: the audience compiles
// and counts, every wave's template exists and is for the wave's channel, and renders for a sample
// member of every variant. `mailroom launch`, `schedule create` and the typed client all use it.
import type { Sql } from '../../db/connection.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { audienceQuery } from '../audience/audience-query.ts';
import { audienceCounts, type AudienceCounts } from '../audience/counts.ts';
import { customersAsMembers } from '../render/members.ts';
import { contextFor } from '../render/context.ts';
import { renderEmail, renderSms } from '../render/templates.ts';
import type { LoadedCampaign } from './campaign-file.ts';
import { waveCallScript, waveTemplate } from './wave-templates.ts';
import { callWaveSpec } from './campaign-file.ts';

export { waveTemplate };

export interface RenderSettings {
  asOf: Date;
  secret: string;
  trackingUrl: string;
}

/** Every wave's templates exist and suit the wave (no member needed). */
export function checkWaveTemplates(campaign: LoadedCampaign): void {
  for (const wave of campaign.waves) {
    if (wave.channel === 'call') waveCallScript(campaign, wave);
    else if (typeof wave.template === 'string') waveTemplate(campaign, wave, null);
    else for (const variant of Object.keys(wave.template)) waveTemplate(campaign, wave, variant);
  }
}

export function audienceCountsOf(sql: Sql, campaign: LoadedCampaign, asOf: Date): Promise<AudienceCounts> {
  const rows = audienceQuery(
    { sql, registry: campaign.registry, asOf, frequencyCap: campaign.config.frequencyCap },
    campaign.audience,
    campaign.slug,
  );
  return audienceCounts(sql, rows);
}

/** The audience counts, after every template of every wave has rendered for a sample member of every variant. */
export async function validateCampaign(
  sql: Sql,
  campaign: LoadedCampaign,
  opts: RenderSettings,
): Promise<AudienceCounts> {
  const counts = await audienceCountsOf(sql, campaign, opts.asOf);
  if (counts.contactable === 0)
    throw new UserError(
      `${campaign.file}: the audience has no one to contact (${counts.members} matched; see \`mailroom segment preview ${campaign.file}\`)`,
      ExitCode.badInput,
    );
  const samples = await sql<
    { customer_id: number; variant: string | null; rank: number | null; band: string | null }[]
  >`
    select distinct on (variant) customer_id, variant, rank, band
    from (${audienceQuery({ sql, registry: campaign.registry, asOf: opts.asOf }, campaign.audience, campaign.slug)}) a
    where suppression_reason is null and not holdout order by variant, customer_id`;
  const members = await customersAsMembers(
    sql,
    samples.map((s) => s.customer_id),
  );
  for (const sample of samples) {
    const row = {
      ...members.find((m) => m.customer_id === sample.customer_id)!,
      rank: sample.rank,
      band: sample.band,
      variant: sample.variant,
    };
    const ctx = contextFor(row, campaign, opts);
    for (const wave of campaign.waves) {
      if (wave.channel === 'call') {
        waveCallScript(campaign, wave).render(ctx, callWaveSpec(wave).unassigned);
        continue;
      }
      const t = waveTemplate(campaign, wave, sample.variant);
      if (t.channel === 'email') renderEmail(t, ctx);
      else if (t.channel === 'sms') renderSms(t, ctx);
      else for (const page of t.pages) for (const block of page.blocks) block.compiled?.render(ctx);
    }
  }
  return counts;
}
