// The report as named tables of plain values: the terminal prints them, `--csv DIR` writes one
// file per table. Rates stay fractions and money stays in the currency's units, as in --json.
import type { BreakdownRow, CampaignReport } from './build.ts';

export type Row = Record<string, string | number | boolean | null>;

function breakdownRows(rows: BreakdownRow[], dim: string): Row[] {
  return rows.map((r) => ({
    [dim]: r.value,
    treated_n: r.treatment.n,
    treated_responders: r.treatment.responders,
    treated_rate: r.treatment.rate,
    treated_ci95_low: r.treatment.ci95?.[0] ?? null,
    treated_ci95_high: r.treatment.ci95?.[1] ?? null,
    holdout_n: r.holdout?.n ?? null,
    holdout_responders: r.holdout?.responders ?? null,
    holdout_rate: r.holdout?.rate ?? null,
    lift: r.lift.absolute,
    lift_ci95_low: r.lift.absolute_ci95?.[0] ?? null,
    lift_ci95_high: r.lift.absolute_ci95?.[1] ?? null,
    relative_lift: r.lift.relative,
    p_value: r.lift.p_value,
    test: r.lift.test,
    p_value_holm: r.p_value_holm,
    incremental_responders: r.incremental_responders.estimate,
  }));
}

export function reportTables(r: CampaignReport): Record<string, Row[]> {
  const g = (name: string, x: CampaignReport['treatment']): Row => ({
    group: name,
    n: x.n,
    responders: x.responders,
    rate: x.rate,
    ci95_low: x.ci95?.[0] ?? null,
    ci95_high: x.ci95?.[1] ?? null,
    traceable_responders: x.traceable_responders,
    attributed_orders: x.attributed_orders,
    revenue: x.revenue,
  });
  const l = r.lift;
  return {
    results: [g('treatment', r.treatment), g('holdout', r.holdout)],
    lift: [
      {
        absolute: l.absolute,
        absolute_ci95_low: l.absolute_ci95?.[0] ?? null,
        absolute_ci95_high: l.absolute_ci95?.[1] ?? null,
        relative: l.relative,
        relative_ci95_low: l.relative_ci95?.[0] ?? null,
        relative_ci95_high: l.relative_ci95?.[1] ?? null,
        p_value: l.p_value,
        test: l.test,
        incremental_responders: r.incremental_responders.estimate,
        incremental_ci95_low: r.incremental_responders.ci95?.[0] ?? null,
        incremental_ci95_high: r.incremental_responders.ci95?.[1] ?? null,
      },
    ],
    cost: [
      {
        currency: r.cost.currency,
        total: r.cost.total,
        pieces: r.cost.pieces,
        gifts: r.cost.gifts,
        budget: r.cost.budget,
        per_response: r.cost.per_response,
        per_incremental_response: r.cost.per_incremental_response,
        per_incremental_response_ci95_low: r.cost.per_incremental_response_ci95?.[0] ?? null,
        per_incremental_response_ci95_high: r.cost.per_incremental_response_ci95?.[1] ?? null,
        note: r.cost.per_incremental_response_note,
        incremental_revenue: r.revenue.incremental,
        roi: r.cost.roi,
      },
    ],
    waves: r.waves.map((w) => {
      const win = r.attribution.windows.find((x) => x.wave === w.wave);
      const cost = r.cost.by_wave.find((x) => x.wave === w.wave);
      return {
        ...w,
        cost: cost?.cost ?? 0,
        window_starts: win?.starts_at ?? null,
        window_ends: win?.ends_at ?? null,
      };
    }),
    cost_by_band: r.cost.by_band.map((b) => ({ ...b })),
    gifts: r.cost.gifts_by_offer.map((g) => ({ ...g })),
    by_wave: breakdownRows(r.breakdowns.wave, 'wave'),
    by_channel: breakdownRows(r.breakdowns.channel, 'channel'),
    by_band: breakdownRows(r.breakdowns.band, 'band'),
    by_variant: breakdownRows(r.breakdowns.variant, 'variant'),
    variant_pairs: r.breakdowns.variant_pairs.map((p) => ({
      a: p.a,
      b: p.b,
      difference: p.lift.absolute,
      ci95_low: p.lift.absolute_ci95?.[0] ?? null,
      ci95_high: p.lift.absolute_ci95?.[1] ?? null,
      p_value: p.lift.p_value,
      test: p.lift.test,
      p_value_holm: p.p_value_holm,
    })),
    by_segment: breakdownRows(r.breakdowns.segment, 'segment'),
    by_cohort: breakdownRows(r.breakdowns.cohort, 'cohort'),
    by_tier: breakdownRows(r.breakdowns.tier, 'tier'),
    by_province: breakdownRows(r.breakdowns.province, 'province'),
    curve: r.curve.map((p) => ({ ...p })),
    curve_by_wave: r.curve_by_wave.flatMap((w) => w.points.map((p) => ({ wave: w.wave, ...p }))),
    overlap: r.overlap.map((o) => ({ ...o })),
    checks: [
      { check: 'as_of', value: r.checks.as_of },
      { check: 'latest_data_at', value: r.checks.latest_data_at },
      { check: 'provisional', value: r.provisional ? (r.provisional_reason ?? 'yes') : 'no' },
      { check: 'sample_ratio_chi2', value: r.checks.sample_ratio?.chi2 ?? null },
      { check: 'sample_ratio_p', value: r.checks.sample_ratio?.p_value ?? null },
      { check: 'sample_ratio_flagged', value: r.checks.sample_ratio?.flagged ?? null },
      ...r.checks.match_rate.map((m) => ({ check: `match_rate_${m.kind}`, value: m.rate })),
      ...r.overlap.map((o) => ({ check: `overlap_${o.campaign}`, value: o.shared_responders })),
      { check: 'responses_after_window', value: r.checks.responses_after_window },
      { check: 'power', value: r.checks.power.message },
      { check: 'winner', value: r.winner.variant ?? r.winner.reason },
      ...(r.goal
        ? [
            { check: `goal_${r.goal.kind}_target`, value: r.goal.target },
            { check: `goal_${r.goal.kind}_by_deadline`, value: r.goal.actual_by_deadline },
          ]
        : []),
      { check: 'verdict', value: r.verdict },
    ],
  };
}
