// `mailroom report NAME`: the campaign's results for the analyst, recomputed from the database
// (no Temporal needed, so a finished campaign reports with only PostgreSQL running): terminal
// tables, --json, --csv DIR (one file per table), --html FILE (one self-contained page).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { context, withDatabase } from '../connect.ts';
import { formatTable, printJson, say } from '../output.ts';
import { campaignReport, reportHtml, reportTables, type CampaignReport } from '../../pipeline/report/index.ts';
import {
  count,
  matchLine,
  money,
  percent,
  points,
  pValue,
  range,
  signedPercent,
  testName,
} from '../../pipeline/report/format.ts';
import type { Row } from '../../pipeline/report/tables.ts';

export function registerReport(program: Command): void {
  program
    .command('report <name>')
    .description(
      "a campaign's results from the database: rates with 95 % intervals for the treated and the holdout, lift and its test, incremental responders, cost per response and per incremental response, ROI, breakdowns by wave, channel, band, variant, segment, cohort, tier and province, the response curves and checks",
    )
    .option('--json', 'print as JSON')
    .option('--csv <dir>', 'write one CSV file per table into DIR')
    .option('--html <file>', 'write the report as one self-contained HTML page')
    .action(async (name: string, flags: { json?: boolean; csv?: string; html?: string }) => {
      const ctx = context({ quiet: flags.json === true });
      const report = await withDatabase(ctx, (sql) => campaignReport(sql, name));
      const written: string[] = [];
      if (flags.csv) written.push(...writeCsv(report, resolve(flags.csv)));
      if (flags.html) {
        const file = resolve(flags.html);
        writeFileSync(file, await reportHtml(report));
        written.push(file);
      }
      if (flags.json) return printJson(report);
      printReport(report);
      for (const f of written) say(`wrote ${f}`);
    });
}

function writeCsv(report: CampaignReport, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(reportTables(report)).map(([name, rows]) => {
    const file = join(dir, `${name}.csv`);
    const columns = rows.length ? Object.keys(rows[0]!) : ['(empty)'];
    // A BOM so that spreadsheet programs read the Chinese as UTF-8.
    writeFileSync(file, `\uFEFF${stringify(rows, { header: true, columns, cast: { boolean: (b) => String(b) } })}`);
    return file;
  });
}

const shown = (rows: Row[], columns: Record<string, (r: Row) => string>) =>
  formatTable(rows.map((r) => Object.fromEntries(Object.entries(columns).map(([k, f]) => [k, f(r)]))));

export function printReport(r: CampaignReport): void {
  const c = r.cost;
  say(`${r.campaign} (${r.name}): ${r.status}. Data as of ${r.as_of}.`);
  if (r.provisional) say(`Provisional: ${r.provisional_reason}.`);
  say();
  say('Deliveries by wave');
  say(
    formatTable(
      reportTables(r).waves!.map((w) => ({
        ...w,
        cost: count(w.cost as number, 2),
        window_starts: String(w.window_starts ?? '–').slice(0, 10),
        window_ends: String(w.window_ends ?? '–').slice(0, 10),
      })),
    ),
  );
  say();
  say(
    `Results (intent to treat; compared: ${r.attribution.compared_kinds.join(', ') || 'none'}; window ${r.attribution.window_days === null ? '90 days for mail, 30 for email and SMS' : `${r.attribution.window_days} days`} from each wave's date)`,
  );
  say(
    formatTable(
      (['treatment', 'holdout'] as const).map((g) => ({
        group: g,
        n: count(r[g].n),
        responders: count(r[g].responders),
        rate: percent(r[g].rate),
        '95% CI': range(r[g].ci95, (x) => percent(x)),
        traceable: count(r[g].traceable_responders),
        orders: count(r[g].attributed_orders),
        revenue: count(r[g].revenue, 2),
      })),
    ),
  );
  const l = r.lift;
  say(
    `Lift ${points(l.absolute)} (95% CI ${range(l.absolute_ci95, points)}); relative ${signedPercent(l.relative)} (${range(l.relative_ci95, signedPercent)}); p = ${pValue(l.p_value)} (${testName(l.test)}).`,
  );
  say(
    `Incremental responders ${count(r.incremental_responders.estimate, 1)} (95% CI ${range(r.incremental_responders.ci95, (x) => count(x, 1))}).`,
  );
  say(
    `Cost ${money(c.total, c.currency)} (pieces ${money(c.pieces, c.currency)}, gifts ${money(c.gifts, c.currency)})${c.budget === null ? '' : ` of a budget of ${money(c.budget, c.currency)}`}; per response ${money(c.per_response, c.currency)}; per incremental response ${money(c.per_incremental_response, c.currency)}${c.per_incremental_response_ci95 ? ` (${money(c.per_incremental_response_ci95[0], c.currency)} to ${money(c.per_incremental_response_ci95[1], c.currency)})` : ''}${c.per_incremental_response_note ? ` — ${c.per_incremental_response_note}` : ''}; ROI ${c.roi === null ? '–' : signedPercent(c.roi)}.`,
  );
  if (r.goal)
    say(
      `Goal: ${count(r.goal.target)} ${r.goal.kind} by ${r.goal.by.slice(0, 10)}; ${count(r.goal.actual_by_deadline)} by then (${r.goal.met ? 'met' : 'not met'}), ${count(r.goal.actual)} so far.`,
    );
  const tables = reportTables(r);
  const breakdownColumns = (dim: string) => ({
    [dim]: (x: Row) => String(x[dim] ?? ''),
    n: (x: Row) => count(x.treated_n as number),
    responders: (x: Row) => count(x.treated_responders as number),
    rate: (x: Row) => percent(x.treated_rate as number | null),
    'holdout n': (x: Row) => count(x.holdout_n as number | null),
    'holdout rate': (x: Row) => percent(x.holdout_rate as number | null),
    lift: (x: Row) => points(x.lift as number | null),
    '95% CI': (x: Row) =>
      x.lift_ci95_low === null ? '–' : `${points(x.lift_ci95_low as number)} to ${points(x.lift_ci95_high as number)}`,
    p: (x: Row) => pValue(x.p_value as number | null),
    'p (Holm)': (x: Row) => pValue(x.p_value_holm as number | null),
  });
  for (const [title, key, dim] of [
    [
      'By wave (sent to, or for a call wave reached by a call; responders credited to the last wave before their first response)',
      'by_wave',
      'wave',
    ],
    ['By channel (reached; responders credited to its waves)', 'by_channel', 'channel'],
    ['By band', 'by_band', 'band'],
    ['By variant (each against the holdout)', 'by_variant', 'variant'],
    ['By segment', 'by_segment', 'segment'],
    ['By cohort (1 = the launch snapshot, 2 = added by the fallback)', 'by_cohort', 'cohort'],
    ['By tier', 'by_tier', 'tier'],
    ['By province', 'by_province', 'province'],
  ] as const) {
    if (!tables[key]!.length) continue;
    say();
    say(title);
    say(shown(tables[key]!, breakdownColumns(dim)));
  }
  if (r.breakdowns.variant_pairs.length) {
    say();
    say('Variants against each other');
    say(
      shown(tables.variant_pairs!, {
        a: (x) => String(x.a),
        b: (x) => String(x.b),
        difference: (x) => points(x.difference as number | null),
        p: (x) => pValue(x.p_value as number | null),
        'p (Holm)': (x) => pValue(x.p_value_holm as number | null),
      }),
    );
    say(`Winner: ${r.winner.variant ?? 'none'} — ${r.winner.reason}.`);
  }
  if (r.cost.by_band.length) {
    say();
    say('Cost by band (pieces to its members, gifts handed to them)');
    say(
      shown(tables.cost_by_band!, {
        band: (x) => String(x.band),
        pieces: (x) => count(x.pieces as number),
        gifts: (x) => count(x.gifts as number),
        'gift cost': (x) => count(x.gift_cost as number, 2),
        cost: (x) => count(x.cost as number, 2),
        'per response': (x) => money(x.per_response as number | null, c.currency),
      }),
    );
  }
  say();
  say('Checks');
  const srm = r.checks.sample_ratio;
  if (srm)
    say(
      `  sample ratio: χ² = ${srm.chi2.toFixed(2)}, p = ${pValue(srm.p_value)}${srm.flagged ? ' — FLAGGED: the split differs from the plan' : ' (matches the plan)'}`,
    );
  for (const m of r.checks.match_rate) say(`  ${matchLine(m)}`);
  say(`  responses after the window (not counted): ${r.checks.responses_after_window}`);
  for (const o of r.overlap) say(`  ${o.shared_responders} responders also count for campaign ${o.campaign}`);
  say(`  power: ${r.checks.power.message}`);
  say(`  latest response or order recorded: ${r.latest_data_at ?? 'none'}`);
  say();
  say(r.verdict);
}
