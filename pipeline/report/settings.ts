// What the report needs from a campaign's file as it was launched (campaigns.spec.text): costs,
// kinds, budget, the planned holdout and variant split, and the attribution settings. Read with a
// small loose schema of its own, so a report never depends on every rule of today's campaign-file
// parser (a campaign launched long ago still reports).
import { parse } from 'yaml';
import { z } from 'zod';
import { ExitCode, UserError } from '../../config/errors.ts';
import { RESPONSE_KINDS } from '../audience/compile.ts';
import { duration, durationMs } from '../campaign/names.ts';
import { parseOffers } from '../calls/stored-campaign.ts';

const percent = z.union([
  z.number(),
  z
    .string()
    .regex(/^\s*\d+(\.\d+)?\s*%\s*$/)
    .transform((s) => parseFloat(s)),
]);

/** `attribution: { window: 90d, model: any_touch }` (the key also belongs in the campaign file's schema). */
export const attributionSchema = z.strictObject({
  window: duration.optional(),
  model: z.literal('any_touch').default('any_touch'),
});

const reportFileSchema = z.looseObject({
  name: z.string(),
  waves: z.array(
    z.looseObject({ name: z.string(), channel: z.string(), cost_per_piece: z.number().min(0).optional() }),
  ),
  response_kinds: z.array(z.string()).optional(),
  budget: z.number().optional(),
  currency: z.string().default('CNY'),
  audience: z
    .looseObject({ holdout: percent.optional(), variants: z.record(z.string(), z.number()).optional() })
    .optional(),
  attribution: attributionSchema.optional(),
  offers: z.unknown().optional(),
  /** `goals: { responses: { kind, target, by } }`: so many responses of a kind by a time from the start. */
  goals: z
    .looseObject({
      responses: z.looseObject({ kind: z.string(), target: z.number(), by: duration }).optional(),
    })
    .optional(),
  /** The response rate the campaign expects (percent, default 5) and the lift it hopes for (points, default 3). */
  expected_response: percent.optional(),
  expected_lift: percent.optional(),
});

export interface ReportSettings {
  slug: string;
  waves: { name: string; channel: string; costPerPieceMinor: number }[];
  responseKinds: string[];
  budgetMinor: number | null;
  currency: string;
  /** Digits after the decimal point of the currency (2 for CNY, 0 for JPY). */
  minorDigits: number;
  holdoutShare: number;
  variants: { name: string; weight: number }[];
  /** Days; null: 90 for mail waves, 30 for email and SMS. */
  attributionWindowDays: number | null;
  model: 'any_touch';
  expectedResponse: number;
  expectedLift: number;
  /** The cost of one gift of each offer that has a unit_cost (offer key → minor units). */
  giftCostsMinor: Record<string, number>;
  /** The responses goal: kind, target, and its deadline in ms from the campaign's start. */
  goal: { kind: string; target: number; byMs: number } | null;
}

export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** An amount in the currency's units (2.80) → minor units (280), rounded once, never summed as floats. */
export const toMinor = (amount: number, digits: number): number => Math.round(amount * 10 ** digits);

export function readReportSettings(file: string, text: string): ReportSettings {
  const parsed = reportFileSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(
      `the campaign file stored with this campaign (${file}) cannot be read for its report: ${issue.path.join('.')}: ${issue.message}`,
      ExitCode.badInput,
    );
  }
  const c = parsed.data;
  const digits = minorDigits(c.currency);
  const window = c.attribution?.window;
  return {
    slug: c.name,
    waves: c.waves.map((w) => ({
      name: w.name,
      channel: w.channel,
      costPerPieceMinor: toMinor(w.cost_per_piece ?? 0, digits),
    })),
    responseKinds: c.response_kinds ?? [...RESPONSE_KINDS],
    budgetMinor: c.budget === undefined ? null : toMinor(c.budget, digits),
    currency: c.currency,
    minorDigits: digits,
    holdoutShare: (c.audience?.holdout ?? 0) / 100,
    variants: Object.entries(c.audience?.variants ?? {}).map(([name, weight]) => ({ name, weight })),
    attributionWindowDays: window ? durationMs(window) / 86_400_000 : null,
    model: c.attribution?.model ?? 'any_touch',
    expectedResponse: (c.expected_response ?? 5) / 100,
    expectedLift: (c.expected_lift ?? 3) / 100,
    goal: c.goals?.responses
      ? { kind: c.goals.responses.kind, target: c.goals.responses.target, byMs: durationMs(c.goals.responses.by) }
      : null,
    giftCostsMinor: Object.fromEntries(
      [...parseOffers(c.offers ?? {}).values()].flatMap((o) =>
        o.unitCost === null ? [] : [[o.key, toMinor(o.unitCost, digits)]],
      ),
    ),
  };
}
