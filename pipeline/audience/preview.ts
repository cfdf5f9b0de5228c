// What a segment or audience would select, without writing anything: counts, a sample of members
// and, on request, the SQL and its plan.
import { audienceQuery, type AudienceContext } from './audience-query.ts';
import { COUNT_GROUPS, tallyCounts, type AudienceCounts, type CountGroup } from './counts.ts';
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

export async function previewAudience(
  ctx: AudienceContext,
  audience: Audience,
  key: string,
  opts: { limit: number; explain: boolean },
): Promise<Preview> {
  const { sql } = ctx;
  // One evaluation of the audience serves both the counts and the sample.
  const [result] = await sql<{ groups: CountGroup[]; sample: PreviewMember[] }[]>`
    with a as materialized (${audienceQuery(ctx, audience, key)}),
    g as (${COUNT_GROUPS(sql)}),
    s as (
      select c.external_id, c.full_name, c.city, c.postal_code, a.rank, a.band, a.variant, a.holdout, a.suppression_reason,
             row_number() over (order by a.suppression_reason is not null, a.rank nulls last, a.customer_id) as ord
      from a join customers c on c.id = a.customer_id
      order by ord limit ${opts.limit})
    select (select coalesce(json_agg(g), '[]') from g) as groups,
           (select coalesce(json_agg(s order by s.ord), '[]') from s) as sample`;
  const sample = result!.sample.map(({ ord: _ord, ...m }: PreviewMember & { ord?: number }) => m);
  const preview: Preview = { counts: tallyCounts(result!.groups), sample };
  if (opts.explain) {
    preview.sql = (await audienceQuery(ctx, audience, key).describe()).string;
    preview.plan = (await sql`explain ${audienceQuery(ctx, audience, key)}`)
      .map((r) => String(r['QUERY PLAN']))
      .join('\n');
  }
  return preview;
}
