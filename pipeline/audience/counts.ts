// Counts of an audience by band, variant, holdout and suppression reason.
import type { Sql } from '../../db/connection.ts';
import type { Fragment } from './compile.ts';

export interface AudienceCounts {
  members: number;
  /** Members who will be contacted: not suppressed and not in the holdout. */
  contactable: number;
  holdout: number;
  suppressed: Record<string, number>;
  bands: Record<string, number>;
  variants: Record<string, number>;
}

export interface CountGroup {
  band: string | null;
  variant: string | null;
  holdout: boolean;
  suppression_reason: string | null;
  n: number;
}

/** The grouping `tallyCounts` reads, over audience rows named `a`. */
export const COUNT_GROUPS = (sql: Sql) =>
  sql`select band, variant, holdout, suppression_reason, count(*)::int as n from a group by 1, 2, 3, 4`;

export async function audienceCounts(sql: Sql, rows: Fragment): Promise<AudienceCounts> {
  return tallyCounts(await sql<CountGroup[]>`with a as (${rows}) ${COUNT_GROUPS(sql)}`);
}

export function tallyCounts(groups: readonly CountGroup[]): AudienceCounts {
  const counts: AudienceCounts = { members: 0, contactable: 0, holdout: 0, suppressed: {}, bands: {}, variants: {} };
  for (const g of groups) {
    counts.members += g.n;
    if (g.suppression_reason)
      counts.suppressed[g.suppression_reason] = (counts.suppressed[g.suppression_reason] ?? 0) + g.n;
    else if (g.holdout) counts.holdout += g.n;
    else counts.contactable += g.n;
    if (g.band && !g.suppression_reason) counts.bands[g.band] = (counts.bands[g.band] ?? 0) + g.n;
    if (g.variant) counts.variants[g.variant] = (counts.variants[g.variant] ?? 0) + g.n;
  }
  return counts;
}
