// The campaigns table: every write to it is here. A campaign's row holds the file as launched
// (activities read the campaign from it), its status and per-wave counts as the workflow last
// reported them, the snapshot and feedback stamps, and the summary stored when it ended.
import type { Sql } from '../../db/connection.ts';
import type { LoadedCampaign } from './campaign-file.ts';

/** Registers (or re-registers before its snapshot) the campaign's row; returns its id. */
export async function registerCampaign(
  sql: Sql,
  campaign: LoadedCampaign,
  slug: string,
  workflowId: string,
): Promise<number> {
  const spec = { file: campaign.file, text: campaign.source.text };
  const [row] = await sql<{ id: number }[]>`
    insert into campaigns (slug, name, spec, workflow_id, status) values (${slug}, ${campaign.title}, ${sql.json(spec)}, ${workflowId}, 'launched')
    on conflict (slug) do update set spec = excluded.spec, name = excluded.name, updated_at = now() returning id`;
  return row!.id;
}

/** The status and per-wave counts, for reports and `mailroom status` after the workflow has ended. */
export async function recordCampaignProgress(
  sql: Sql,
  campaignId: number,
  status: string,
  waves: unknown[],
): Promise<void> {
  await sql`update campaigns set status = ${status}, summary = coalesce(summary, '{}'::jsonb) || ${sql.json({ waves } as never)}, updated_at = now() where id = ${campaignId}`;
}

export async function storeSummary(sql: Sql, campaignId: number, summary: object, status: string): Promise<void> {
  await sql`update campaigns set summary = ${sql.json(summary as never)}, status = ${status}, completed_at = coalesce(completed_at, now()), updated_at = now() where id = ${campaignId}`;
}

/** True once, for the first caller: feedback is applied once per campaign. Run inside the feedback's transaction. */
export async function claimFeedback(tx: Sql, campaignId: number): Promise<boolean> {
  const [claim] =
    await tx`update campaigns set feedback_at = now() where id = ${campaignId} and feedback_at is null returning id`;
  return Boolean(claim);
}

/** Stamps the snapshot (inside the snapshot's transaction); returns its time. */
export async function markSnapshotTaken(tx: Sql, campaignId: number, audienceChannel: string | null): Promise<Date> {
  const [stamp] = await tx<{ snapshot_at: Date }[]>`
    update campaigns set snapshot_at = now(), audience_channel = ${audienceChannel}, updated_at = now()
    where id = ${campaignId} returning snapshot_at`;
  return stamp!.snapshot_at;
}
