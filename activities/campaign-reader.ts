// The campaign as its activities see it: read once per worker from the row `launch` stored, and
// shared by the activities of the campaign's waves, its call waves and its cohorts.
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../db/connection.ts';
import { loadCampaignText, type LoadedCampaign } from '../pipeline/campaign/campaign-file.ts';
import type { LoadedTemplate } from '../pipeline/render/templates.ts';

export interface Prepared {
  text: string;
  campaign: LoadedCampaign;
  templates: Map<string, LoadedTemplate>;
}

/**
 * The campaign as launched, read from its row. Every batch of a wave needs the campaign and its
 * templates; the stored text of a launched campaign does not change, so each worker parses it
 * (and compiles templates) once.
 */
export function campaignReader(sql: Sql): (campaignId: number) => Promise<Prepared> {
  const prepared = new Map<number, Prepared>();
  return async (campaignId: number): Promise<Prepared> => {
    const [row] = await sql<
      { slug: string; spec: { file: string; text: string } }[]
    >`select slug, spec from campaigns where id = ${campaignId}`;
    if (!row) throw ApplicationFailure.nonRetryable(`campaign ${campaignId} does not exist`);
    const known = prepared.get(campaignId);
    if (known?.text === row.spec.text) return known;
    // A recurring campaign's runs share one file; each run is its own campaign, named by its row.
    const campaign = { ...loadCampaignText(row.spec.file, row.spec.text), slug: row.slug };
    const fresh = { text: row.spec.text, campaign, templates: new Map<string, LoadedTemplate>() };
    prepared.set(campaignId, fresh);
    return fresh;
  };
}

/** What the activities of one part of a campaign (its calls, its cohorts) are made from. */
export interface CampaignPartDeps {
  sql: Sql;
  campaignOf: (campaignId: number) => Promise<Prepared>;
  now: () => Date;
}

export function waveOf(campaign: LoadedCampaign, name: string) {
  const wave = campaign.waves.find((w) => w.name === name);
  if (!wave) throw ApplicationFailure.nonRetryable(`campaign ${campaign.slug} has no wave ${name}`);
  return wave;
}
