// The campaign report: the counts read from the database (read.ts) turned into rates, intervals,
// tests, costs, breakdowns, the response curve and the checks. No I/O here. Rates are fractions;
// money is counted in minor units (integers) and shown in the currency's units.
import type { OutcomeCell, ReportData } from './read.ts';
import { powerCheck } from './power.ts';
import {
  costPerIncremental,
  costPerResponse,
  groupRate,
  holm,
  incrementalResponders,
  lift,
  roi,
  sampleRatioTest,
  type CostPer,
  type GroupRate,
  type Interval,
} from './statistics.ts';
import { verdict } from './verdict.ts';
import type { BreakdownRow, CampaignReport, CurvePoint, GroupFigures, VariantPair } from './report-shape.ts';

export type { BreakdownRow, CampaignReport, CurvePoint, GroupFigures, VariantPair };

const TRACEABLE = ['click', 'purl_visit', 'qr_scan', 'sms_reply', 'call_outcome', 'appointment'];

function cellOf(
  cells: OutcomeCell[],
  group: OutcomeCell['group'],
  dimension: OutcomeCell['dimension'],
  value: string | null,
) {
  return cells.find((c) => c.group === group && c.dimension === dimension && c.value === value);
}

function breakdown(
  cells: OutcomeCell[],
  dimension: 'band' | 'variant' | 'segment' | 'tier' | 'province' | 'cohort',
  holdoutAll: GroupRate,
): BreakdownRow[] {
  const values = [
    ...new Set(cells.filter((c) => c.dimension === dimension && c.group === 'treatment').map((c) => c.value)),
  ];
  const rows = values
    .sort((a, b) => String(a).localeCompare(String(b)))
    .map((value) => {
      const t = cellOf(cells, 'treatment', dimension, value)!;
      // Variants are assigned to the treated only: every variant is compared with the whole holdout.
      const h =
        dimension === 'variant'
          ? holdoutAll
          : ((c) => (c ? groupRate(c.responders, c.n) : groupRate(0, 0)))(cellOf(cells, 'holdout', dimension, value));
      return row(value ?? '(none)', groupRate(t.responders, t.n), h);
    });
  holm(rows.map((r) => r.lift.p_value)).forEach((p, i) => (rows[i]!.p_value_holm = p));
  return rows;
}

function row(value: string, treatment: GroupRate, holdout: GroupRate): BreakdownRow {
  const l = lift(treatment.responders, treatment.n, holdout.responders, holdout.n);
  return {
    value,
    treatment,
    holdout,
    lift: l,
    incremental_responders: incrementalResponders(treatment.n, l),
    p_value_holm: null,
  };
}

/** Cumulative responders and rates, day 0 to days − 1, from the responders of each day. */
function cumulative(
  days: number,
  perDay: (g: 'treatment' | 'holdout') => Map<number, number>,
  n: { treatment: number; holdout: number },
): CurvePoint[] {
  const [td, hd] = [perDay('treatment'), perDay('holdout')];
  const curve: CurvePoint[] = [];
  let [tc, hc] = [0, 0];
  for (let day = 0; day < days; day++) {
    tc += td.get(day) ?? 0;
    hc += hd.get(day) ?? 0;
    curve.push({
      day,
      treatment_responders: tc,
      holdout_responders: hc,
      treatment: n.treatment ? tc / n.treatment : null,
      holdout: n.holdout ? hc / n.holdout : null,
    });
  }
  return curve;
}

const DAY = 86_400_000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function buildReport(data: ReportData): CampaignReport {
  const { settings: s, cells } = data;
  const units = (minor: number) => minor / 10 ** s.minorDigits;
  const figures = (group: 'treatment' | 'holdout'): GroupFigures => {
    const c = cellOf(cells, group, 'all', null);
    return {
      ...groupRate(c?.responders ?? 0, c?.n ?? 0),
      traceable_responders: c?.traceable_responders ?? 0,
      attributed_orders: c?.orders ?? 0,
      revenue: units(c?.revenue_minor ?? 0),
    };
  };
  const treatment = figures('treatment');
  const holdout = figures('holdout');
  const revenueMinor = (g: 'treatment' | 'holdout') => cellOf(cells, g, 'all', null)?.revenue_minor ?? 0;
  const overall = lift(treatment.responders, treatment.n, holdout.responders, holdout.n);
  const incremental = incrementalResponders(treatment.n, overall);

  // Cost: pieces × cost per piece, in minor units (printed mail costs whether or not it was
  // posted), and the gifts handed out at branch visits × their unit cost.
  const pieceCost = new Map(s.waves.map((w) => [w.name, w.costPerPieceMinor]));
  const byWave = s.waves.map((w) => {
    const d = data.waves.find((x) => x.wave === w.name);
    const pieces = (d?.sent ?? 0) + (d?.printed ?? 0);
    return { wave: w.name, channel: w.channel, pieces, minor: pieces * w.costPerPieceMinor };
  });
  const gifts = data.gifts.map((g) => {
    const unit = s.giftCostsMinor[g.offer] ?? null;
    return { ...g, unitMinor: unit, minor: unit === null ? 0 : g.gifts * unit };
  });
  const giftMinor = gifts.reduce((a, g) => a + g.minor, 0);
  const costMinor = byWave.reduce((a, w) => a + w.minor, 0) + giftMinor;
  const bandCost = new Map<string, { pieces: number; minor: number; gifts: number; giftMinor: number }>();
  const bandEntry = (band: string | null) => {
    const key = band ?? '(none)';
    if (!bandCost.has(key)) bandCost.set(key, { pieces: 0, minor: 0, gifts: 0, giftMinor: 0 });
    return bandCost.get(key)!;
  };
  for (const p of data.bandPieces) {
    const e = bandEntry(p.band);
    e.pieces += p.pieces;
    e.minor += p.pieces * (pieceCost.get(p.wave) ?? 0);
  }
  for (const g of gifts) {
    const e = bandEntry(g.band);
    e.gifts += g.gifts;
    e.giftMinor += g.minor;
    e.minor += g.minor;
  }
  const incrementalRevenueMinor =
    holdout.n > 0 && treatment.n > 0
      ? revenueMinor('treatment') - Math.round((revenueMinor('holdout') * treatment.n) / holdout.n)
      : null;
  const perResponse: CostPer = costPerResponse(costMinor, treatment.responders);
  const perIncremental = costPerIncremental(costMinor, incremental);
  const perUnits = (v: number | null) => (v === null ? null : units(v));

  const holdoutRate = groupRate(holdout.responders, holdout.n);
  const variantRows = breakdown(cells, 'variant', holdoutRate).filter((r) => r.value !== '(none)');
  const pairs: VariantPair[] = [];
  for (let i = 0; i < variantRows.length; i++)
    for (let j = i + 1; j < variantRows.length; j++) {
      const a = variantRows[i]!;
      const b = variantRows[j]!;
      pairs.push({
        a: a.value,
        b: b.value,
        lift: lift(a.treatment.responders, a.treatment.n, b.treatment.responders, b.treatment.n),
        p_value_holm: null,
      });
    }
  // Holm over every variant comparison: each against the holdout and each against each other.
  const adjusted = holm([...variantRows.map((r) => r.lift.p_value), ...pairs.map((p) => p.lift.p_value)]);
  variantRows.forEach((r, i) => (r.p_value_holm = adjusted[i] ?? null));
  pairs.forEach((p, i) => (p.p_value_holm = adjusted[variantRows.length + i] ?? null));

  const ends = data.windows.length ? new Date(Math.max(...data.windows.map((w) => w.ends_at.getTime()))) : null;
  const starts = data.windows.length ? new Date(Math.min(...data.windows.map((w) => w.starts_at.getTime()))) : null;
  // A call wave opens its window when a call first reaches a customer.
  const waiting = s.waves.filter((w) => !data.windows.some((x) => x.wave === w.name));
  const names = (call: boolean) => waiting.filter((w) => (w.channel === 'call') === call).map((w) => w.name);
  const unsent = [
    ...(names(false).length ? [`waves not sent yet: ${names(false).join(', ')}`] : []),
    ...(names(true).length ? [`call waves with nobody reached yet: ${names(true).join(', ')}`] : []),
  ];
  const ended = ['completed', 'cancelled'].includes(data.campaign.status);
  const provisionalReason = !starts
    ? 'nothing has been sent yet'
    : ends && data.asOf < ends
      ? `the attribution window is open until ${ends.toISOString().slice(0, 10)}`
      : !ended && unsent.length
        ? unsent.join('; ')
        : null;
  const provisional = provisionalReason !== null;
  const winner = pickWinner(variantRows, pairs, provisionalReason);

  const waveRows: BreakdownRow[] = data.windows.map((w) => {
    const credited = cellOf(cells, 'treatment', 'wave', w.wave)?.responders ?? 0;
    const l = lift(credited, w.sent, holdout.responders, holdout.n);
    return {
      value: w.wave,
      treatment: groupRate(credited, w.sent),
      holdout: holdoutRate,
      lift: l,
      incremental_responders: incrementalResponders(w.sent, l),
      p_value_holm: null,
    };
  });
  holm(waveRows.map((r) => r.lift.p_value)).forEach((p, i) => (waveRows[i]!.p_value_holm = p));
  const channelRows: BreakdownRow[] = [...new Set(data.windows.map((w) => w.channel))].map((channel) => {
    const ws = data.windows.filter((w) => w.channel === channel);
    const reached = data.channelReach.find((c) => c.channel === channel)?.n ?? ws.reduce((a, w) => a + w.sent, 0);
    const credited = ws.reduce((a, w) => a + (cellOf(cells, 'treatment', 'wave', w.wave)?.responders ?? 0), 0);
    return row(channel, groupRate(credited, reached), holdoutRate);
  });
  holm(channelRows.map((r) => r.lift.p_value)).forEach((p, i) => (channelRows[i]!.p_value_holm = p));

  const days = ends && starts ? Math.ceil((ends.getTime() - starts.getTime()) / DAY) : 0;
  const daily = (g: 'treatment' | 'holdout') => {
    const counts = new Map<number, number>();
    for (const c of cells)
      if (c.group === g && c.dimension === 'day' && c.value !== null) counts.set(Number(c.value), c.responders);
    return counts;
  };
  const curve = cumulative(days, daily, { treatment: treatment.n, holdout: holdout.n });
  const curveByWave = data.windows.map((w) => ({
    wave: w.wave,
    channel: w.channel,
    starts_at: w.starts_at.toISOString(),
    points: cumulative(
      Math.ceil((w.ends_at.getTime() - w.starts_at.getTime()) / DAY),
      (g) => new Map(data.waveDays.filter((d) => d.wave === w.wave && d.group === g).map((d) => [d.day, d.responders])),
      { treatment: w.sent, holdout: holdout.n },
    ),
  }));

  const observed: Record<string, number> = { holdout: holdout.n };
  const planned: Record<string, number> = { holdout: s.holdoutShare };
  if (variantRows.length && s.variants.length) {
    const total = s.variants.reduce((a, v) => a + v.weight, 0);
    for (const v of s.variants) {
      observed[v.name] = variantRows.find((r) => r.value === v.name)?.treatment.n ?? 0;
      planned[v.name] = ((1 - s.holdoutShare) * v.weight) / total;
    }
  } else {
    observed.treatment = treatment.n;
    planned.treatment = 1 - s.holdoutShare;
  }
  const srm = sampleRatioTest(Object.values(observed), Object.values(planned));
  const afterWindow = cells
    .filter((c) => c.dimension === 'all' && c.group !== 'suppressed')
    .reduce((a, c) => a + c.after_window, 0);

  const notes = [
    'Treatment and holdout are intent to treat: every member assigned and not suppressed at the snapshot, contacted or not.',
    `The lift compares kinds both groups can produce (${s.responseKinds.filter((k) => !TRACEABLE.includes(k)).join(', ') || 'none'}; orders from the orders table; responses not matched by a response code); traceable responses are reported apart.`,
    'Wave rows count the members a wave reached and credit each responder to the last wave that reached them before their first response (channel rows add up the waves of a channel); their comparison with the holdout is descriptive, not randomised.',
    "Each wave's curve counts, by day since that wave's date, first responses inside its window of the members it reached and of the whole holdout; members who had responded before the wave's date do not count for it.",
    'Responses imported by `mailroom import responses` and matched by customer, phone or email count like orders, by window, for the holdout as for the treated; those matched by a response code are traceable.',
  ];
  if (srm?.flagged)
    notes.push('The holdout share differs from the plan (p < 0.001): the groups may not be comparable.');

  const report: CampaignReport = {
    campaign: data.campaign.slug,
    name: data.campaign.name,
    status: data.campaign.status,
    as_of: data.asOf.toISOString(),
    latest_data_at: iso(data.latestDataAt),
    provisional,
    provisional_reason: provisionalReason,
    attribution: {
      model: s.model,
      window_days: s.attributionWindowDays,
      windows: data.windows.map((w) => ({
        wave: w.wave,
        channel: w.channel,
        sent: w.sent,
        starts_at: w.starts_at.toISOString(),
        ends_at: w.ends_at.toISOString(),
      })),
      starts_at: iso(starts),
      ends_at: iso(ends),
      compared_kinds: s.responseKinds.filter((k) => !TRACEABLE.includes(k)),
      traceable_kinds: s.responseKinds.filter((k) => TRACEABLE.includes(k)),
    },
    treatment,
    holdout,
    suppressed: cellOf(cells, 'suppressed', 'all', null)?.n ?? 0,
    lift: overall,
    incremental_responders: incremental,
    revenue: {
      currency: s.currency,
      treatment: units(revenueMinor('treatment')),
      holdout: units(revenueMinor('holdout')),
      per_member_treatment: treatment.n ? units(revenueMinor('treatment')) / treatment.n : null,
      per_member_holdout: holdout.n ? units(revenueMinor('holdout')) / holdout.n : null,
      incremental: incrementalRevenueMinor === null ? null : units(incrementalRevenueMinor),
    },
    cost: {
      currency: s.currency,
      total: units(costMinor),
      budget: s.budgetMinor === null ? null : units(s.budgetMinor),
      pieces: units(costMinor - giftMinor),
      gifts: units(giftMinor),
      by_wave: byWave.map((w) => ({ wave: w.wave, channel: w.channel, pieces: w.pieces, cost: units(w.minor) })),
      gifts_by_offer: gifts.map((g) => ({
        band: g.band,
        offer: g.offer,
        gifts: g.gifts,
        unit_cost: g.unitMinor === null ? null : units(g.unitMinor),
        cost: units(g.minor),
      })),
      by_band: [...bandCost.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([band, e]) => {
          const responders = cellOf(cells, 'treatment', 'band', band === '(none)' ? null : band)?.responders ?? 0;
          return {
            band,
            pieces: e.pieces,
            gifts: e.gifts,
            gift_cost: units(e.giftMinor),
            cost: units(e.minor),
            per_response: perUnits(costPerResponse(e.minor, responders).estimate),
          };
        }),
      per_response: perUnits(perResponse.estimate),
      per_incremental_response: perUnits(perIncremental.estimate),
      per_incremental_response_ci95: perIncremental.ci95
        ? [perUnits(perIncremental.ci95[0]), perUnits(perIncremental.ci95[1])]
        : null,
      per_incremental_response_note: perIncremental.note,
      roi: roi(incrementalRevenueMinor, costMinor),
      note: 'pieces sent (mail: printed, posted or not) × cost_per_piece, plus gifts handed out × unit_cost; ROI = (incremental revenue − cost) / cost',
    },
    waves: s.waves.map((w) => {
      const d = data.waves.find((x) => x.wave === w.name);
      return {
        wave: w.name,
        channel: w.channel,
        sent: d?.sent ?? 0,
        failed: d?.failed ?? 0,
        uncertain: d?.uncertain ?? 0,
        printed_unconfirmed: d?.printed ?? 0,
        pending: d?.pending ?? 0,
      };
    }),
    breakdowns: {
      wave: waveRows,
      band: breakdown(cells, 'band', holdoutRate),
      variant: variantRows,
      variant_pairs: pairs,
      channel: channelRows,
      segment: breakdown(cells, 'segment', holdoutRate),
      cohort: breakdown(cells, 'cohort', holdoutRate),
      tier: breakdown(cells, 'tier', holdoutRate),
      province: breakdown(cells, 'province', holdoutRate),
    },
    winner,
    goal:
      data.goal && s.goal
        ? {
            kind: s.goal.kind,
            target: s.goal.target,
            by: data.goal.by.toISOString(),
            actual_by_deadline: data.goal.by_deadline,
            actual: data.goal.now,
            met: data.goal.by_deadline >= s.goal.target,
          }
        : null,
    overlap: data.overlap,
    curve,
    curve_by_wave: curveByWave,
    checks: {
      as_of: data.asOf.toISOString(),
      latest_data_at: iso(data.latestDataAt),
      provisional,
      sample_ratio: srm ? { ...srm, observed, planned } : null,
      match_rate: data.imports.map((i) => {
        // Responses: matched out of the rows that could be matched (not duplicates, not rejected).
        const base = i.kind === 'responses' ? i.matched + i.unmatched : i.read;
        return { ...i, rate: base ? i.matched / base : null };
      }),
      responses_after_window: afterWindow,
      power: powerCheck(treatment.n, holdout.n, s.expectedResponse, s.expectedLift),
      notes,
    },
    verdict: '',
  };
  report.verdict = verdict(report);
  return report;
}

/** A variant wins only when the window has closed and it beats every other variant after Holm's adjustment. */
function pickWinner(
  rows: BreakdownRow[],
  pairs: VariantPair[],
  provisionalReason: string | null,
): { variant: string | null; reason: string } {
  if (rows.length < 2) return { variant: null, reason: 'the campaign has fewer than two variants' };
  if (provisionalReason) return { variant: null, reason: `no winner yet: ${provisionalReason}` };
  const best = [...rows].sort((a, b) => (b.treatment.rate ?? 0) - (a.treatment.rate ?? 0))[0]!;
  const beaten = pairs
    .filter((p) => p.a === best.value || p.b === best.value)
    .every((p) => (p.p_value_holm ?? 1) < 0.05);
  if (!beaten)
    return {
      variant: null,
      reason: `no winner yet: ${best.value} has the highest rate, but its difference from the others does not survive Holm's adjustment (p ≥ 0.05)`,
    };
  return { variant: best.value, reason: `${best.value} beats every other variant (Holm-adjusted p < 0.05)` };
}

export type { Interval };
