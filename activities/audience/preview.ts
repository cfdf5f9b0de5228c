// What a segment or audience would select, without writing anything: counts, a sample of members
// and, on request, the SQL and its plan.
import { audienceQuery, type AudienceContext } from './audience-query.ts';
import { audienceCounts, type AudienceCounts } from './counts.ts';
import type { Audience } from './audience.ts';

export interface PreviewMember {
  external_id: string;
  full_name: string;
  city: string | null;
  postal_code: string | null;
  rank: number | null;
  band: string | null;
  variant: string | null;
  holdout: boolean;
  suppression_reason: string | null;
}

export interface Preview {
  counts: AudienceCounts;
  sample: PreviewMember[];
  /** The statement as PostgreSQL receives it: every user value is a $n parameter. */
  sql?: string;
  plan?: string;
}

export async function previewAudience(ctx: AudienceContext, audience: Audience, key: string, opts: { limit: number; explain: boolean }): Promise<Preview> {
  const { sql } = ctx;
  const rows = audienceQuery(ctx, audience, key);
  const counts = await audienceCounts(sql, rows);
  const sample = await sql<PreviewMember[]>`
    select c.external_id, c.full_name, c.city, c.postal_code, a.rank, a.band, a.variant, a.holdout, a.suppression_reason
    from (${audienceQuery(ctx, audience, key)}) a join customers c on c.id = a.customer_id
    order by a.suppression_reason is not null, a.rank nulls last, a.customer_id
    limit ${opts.limit}`;
  const preview: Preview = { counts, sample: [...sample] };
  if (opts.explain) {
    preview.sql = (await audienceQuery(ctx, audience, key).describe()).string;
    preview.plan = (await sql`explain ${audienceQuery(ctx, audience, key)}`).map((r) => String(r['QUERY PLAN'])).join('\n');
  }
  return preview;
}
