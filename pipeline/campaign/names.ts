// The rules for a campaign's name and for durations, shared by the campaign file, schedules and
// the CLI, so that each is written once.
import { z } from 'zod';

/** A campaign or schedule name: it becomes part of workflow ids, folder names and URLs. */
export const CAMPAIGN_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const CAMPAIGN_NAME_HINT = 'use lower-case letters, digits and dashes (e.g. wealth-month-2026-12)';
export const campaignName = z.string().regex(CAMPAIGN_NAME, CAMPAIGN_NAME_HINT);

const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/;
export const DURATION_HINT = 'a duration such as 90s, 30m, 36h, 7d or 2w';
export const duration = z.string().regex(DURATION, DURATION_HINT);

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function isDuration(text: string): boolean {
  return DURATION.test(text.trim());
}

/** "90s", "36h", "7d" → milliseconds; NaN for text that is not a duration. */
export function durationMs(text: string): number {
  const m = DURATION.exec(text.trim());
  return m ? Math.round(Number(m[1]) * UNIT_MS[m[2]!]!) : Number.NaN;
}
