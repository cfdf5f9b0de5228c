// Freezes a campaign's audience into campaign_members in one INSERT … SELECT. Taking the snapshot
// again is safe: once a campaign has one, the same counts come back and nothing changes, so a
// retried activity can never alter who the campaign reaches.
import type { Sql } from '../../db/connection.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { audienceQuery, type AudienceContext } from './audience-query.ts';
import { audienceCounts, type AudienceCounts } from './counts.ts';
import type { Audience } from './audience.ts';
import { insertMembers } from './members-table.ts';
import { markSnapshotTaken } from '../campaign/campaigns-table.ts';

export interface SnapshotResult {
  campaignId: number;
  takenAt: string;
  /** False when an earlier snapshot was found and returned. */
  created: boolean;
  counts: AudienceCounts;
}

export async function snapshotAudience(
  ctx: AudienceContext,
  campaignId: number,
  audience: Audience,
): Promise<SnapshotResult> {
  return ctx.sql.begin(async (txn) => {
    const tx = txn as unknown as Sql;
    const [campaign] = await tx<
      { slug: string; snapshot_at: Date | null }[]
    >`select slug, snapshot_at from campaigns where id = ${campaignId} for update`;
    if (!campaign) throw new UserError(`campaign ${campaignId} does not exist`, ExitCode.badInput);
    let created = false;
    let takenAt = campaign.snapshot_at;
    if (!takenAt) {
      const rows = audienceQuery({ ...ctx, sql: tx }, audience, campaign.slug);
      await insertMembers(tx, campaignId, rows);
      takenAt = await markSnapshotTaken(tx, campaignId, audience.channel);
      created = true;
    }
    const counts = await audienceCounts(tx, tx`select * from campaign_members where campaign_id = ${campaignId}`);
    return { campaignId, takenAt: takenAt.toISOString(), created, counts };
  }) as Promise<SnapshotResult>;
}
