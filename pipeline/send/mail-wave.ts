// The postal channel inside a campaign: the wave's letters become a print job for the print shop
// (PDFs, manifest.csv, job.json under the print folder), each piece is entered in the ledger as
// 'printed', and when the operator confirms the posting the pieces become 'sent' on that date.
import { join } from 'node:path';
import type { Sql } from '../../db/connection.ts';
import type { LoadedCampaign, Wave } from '../campaign/campaign-file.ts';
import { exportPrint } from '../render/print/export.ts';
import { waveTarget } from '../audience/wave-target.ts';
import { suppressionReason } from '../audience/suppression.ts';
import { insertPrinted, markMailed } from './deliveries.ts';

export interface MailWaveJob {
  pieces: number;
  files: number;
  /** Members the wave targets who cannot get a letter (no usable address, mail consent denied, suppressed). */
  suppressed: number;
  /** The folder holding the job; a path on the worker's machine. */
  out: string;
}

export interface MailWaveDeps {
  sql: Sql;
  printDir: string;
  secret: string;
  trackingUrl: string;
  asOf: Date;
}

export async function exportMailWave(
  deps: MailWaveDeps,
  campaign: LoadedCampaign,
  campaignId: number,
  wave: Wave,
): Promise<MailWaveJob> {
  const { sql } = deps;
  const target = waveTarget(sql, campaign, campaignId, wave, deps.asOf);
  const reason = suppressionReason(sql, 'mail', deps.asOf, undefined);
  const out = join(deps.printDir, campaign.slug, wave.name);
  const ids: number[] = [];
  // A retried export renders the same job again (the output is deterministic), replacing a partial one.
  const job = await exportPrint(sql, campaign, {
    out,
    wave: wave.name,
    perFile: 2000,
    asOf: deps.asOf,
    secret: deps.secret,
    trackingUrl: deps.trackingUrl,
    replace: true,
    where: sql`${target} and ${reason} is null`,
    onPieces: (batch) => ids.push(...batch),
  });
  // Pieces confirmed as posted by an earlier attempt stay as they are.
  await insertPrinted(sql, campaignId, wave.name, ids);
  const [unusable] = await sql<{ n: number }[]>`
    select count(*)::int as n from campaign_members m join customers c on c.id = m.customer_id
    where m.campaign_id = ${campaignId} and m.suppression_reason is null and not m.holdout and ${target} and ${reason} is not null`;
  return { pieces: job.pieces, files: job.files.length, suppressed: unusable!.n, out };
}

/** The operator posted the wave's letters on `date` (YYYY-MM-DD): its printed pieces are sent. */
export async function recordMailing(
  sql: Sql,
  campaignId: number,
  wave: string,
  date: string,
  cohort?: number,
): Promise<{ mailed: number }> {
  return { mailed: await markMailed(sql, campaignId, wave, date, cohort) };
}
