// The shape of a campaign report: what `mailroom report --json` prints and the HTML page shows.
import type { GroupRate, Incremental, Lift, SampleRatio } from './statistics.ts';
import type { PowerCheck } from './power.ts';
import type { ImportCheck } from './read.ts';

export interface GroupFigures extends GroupRate {
  traceable_responders: number;
  attributed_orders: number;
  /** Attributed revenue in the campaign's currency. */
  revenue: number;
}

export interface BreakdownRow {
  value: string;
  treatment: GroupRate;
  holdout: GroupRate | null;
  lift: Lift;
  incremental_responders: Incremental;
  /** The lift's p-value after Holm's adjustment over the rows of this breakdown. */
  p_value_holm: number | null;
}

export interface VariantPair {
  a: string;
  b: string;
  lift: Lift;
  p_value_holm: number | null;
}

export interface CurvePoint {
  day: number;
  treatment_responders: number;
  holdout_responders: number;
  treatment: number | null;
  holdout: number | null;
}

export interface CampaignReport {
  campaign: string;
  name: string;
  status: string;
  as_of: string;
  latest_data_at: string | null;
  provisional: boolean;
  provisional_reason: string | null;
  attribution: {
    model: 'any_touch';
    window_days: number | null;
    windows: { wave: string; channel: string; sent: number; starts_at: string; ends_at: string }[];
    starts_at: string | null;
    ends_at: string | null;
    compared_kinds: string[];
    traceable_kinds: string[];
  };
  treatment: GroupFigures;
  holdout: GroupFigures;
  suppressed: number;
  lift: Lift;
  incremental_responders: Incremental;
  revenue: {
    currency: string;
    treatment: number;
    holdout: number;
    per_member_treatment: number | null;
    per_member_holdout: number | null;
    incremental: number | null;
  };
  cost: {
    currency: string;
    /** Pieces plus gifts. */
    total: number;
    /** Pieces × cost per piece. */
    pieces: number;
    /** Gifts handed out at branch visits × their unit cost. */
    gifts: number;
    budget: number | null;
    by_wave: { wave: string; channel: string; pieces: number; cost: number }[];
    gifts_by_offer: { band: string | null; offer: string; gifts: number; unit_cost: number | null; cost: number }[];
    /** Per band: pieces sent to its members, gifts handed to them, the cost of both, cost per responder. */
    by_band: {
      band: string;
      pieces: number;
      gifts: number;
      gift_cost: number;
      cost: number;
      per_response: number | null;
    }[];
    per_response: number | null;
    per_incremental_response: number | null;
    per_incremental_response_ci95: [number | null, number | null] | null;
    per_incremental_response_note: string | null;
    roi: number | null;
    note: string;
  };
  waves: {
    wave: string;
    channel: string;
    sent: number;
    failed: number;
    uncertain: number;
    printed_unconfirmed: number;
    pending: number;
  }[];
  breakdowns: {
    wave: BreakdownRow[];
    band: BreakdownRow[];
    variant: BreakdownRow[];
    variant_pairs: VariantPair[];
    /** Like wave: members a channel reached, responders credited to its waves. */
    channel: BreakdownRow[];
    /** By the customer's `segment` attribute. */
    segment: BreakdownRow[];
    /** By the cohort the member joined in: 1 = the launch snapshot, 2 = ranks added by the fallback. */
    cohort: BreakdownRow[];
    tier: BreakdownRow[];
    province: BreakdownRow[];
  };
  winner: { variant: string | null; reason: string };
  /** The campaign file's responses goal against what happened (treated members with a response of its kind). */
  goal: { kind: string; target: number; by: string; actual_by_deadline: number; actual: number; met: boolean } | null;
  overlap: { campaign: string; shared_responders: number }[];
  curve: CurvePoint[];
  /** Per wave, by day since its date: the members it reached against the whole holdout. */
  curve_by_wave: { wave: string; channel: string; starts_at: string; points: CurvePoint[] }[];
  checks: {
    as_of: string;
    latest_data_at: string | null;
    provisional: boolean;
    sample_ratio: (SampleRatio & { observed: Record<string, number>; planned: Record<string, number> }) | null;
    match_rate: (ImportCheck & { rate: number | null })[];
    responses_after_window: number;
    power: PowerCheck;
    notes: string[];
  };
  verdict: string;
}
