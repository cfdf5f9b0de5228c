// The campaign report, recomputed from the database every time it is asked for.
import type { Sql } from '../../db/connection.ts';
import { buildReport, type CampaignReport } from './build.ts';
import { readReportData } from './read.ts';

export type { CampaignReport } from './build.ts';
export { reportHtml } from './html.ts';
export { reportTables } from './tables.ts';
export { powerCheck, minimumDetectableLift, holdoutNeeded } from './power.ts';

export async function campaignReport(sql: Sql, slug: string): Promise<CampaignReport> {
  return buildReport(await readReportData(sql, slug));
}
