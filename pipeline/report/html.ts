// The report as one self-contained HTML page: inline CSS, charts as inline SVG, no script, no
// font or image from elsewhere (a Content-Security-Policy says so to the browser). Every number
// shown from the JSON carries data-key (its path in `--json`) and data-value (the raw value), so a
// test can hold the page to the JSON.
import type { BreakdownRow, CampaignReport } from './build.ts';
import { curveChart, ratesChart, waveCurvesChart } from './charts.ts';
import { webFontFor } from './web-font.ts';
import { count, matchLine, money, percent, points, pValue, range, signedPercent, testName } from './format.ts';

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A number from the JSON, shown formatted. */
const num = (key: string, value: number | null | undefined, shown: string) =>
  `<span data-key="${esc(key)}" data-value="${value === null || value === undefined ? '' : String(value)}">${esc(shown)}</span>`;

function tile(label: string, main: string, sub = ''): string {
  return `<div class="tile"><div class="label">${esc(label)}</div><div class="main">${main}</div><div class="sub">${sub}</div></div>`;
}

function table(title: string, head: string[], rows: string[][]): string {
  if (!rows.length) return `<h3>${esc(title)}</h3><p class="muted">(none)</p>`;
  return `<h3>${esc(title)}</h3><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function breakdownTable(title: string, dim: string, rows: BreakdownRow[]): string {
  return table(
    title,
    [
      dim,
      'treated n',
      'responders',
      'rate',
      '95 % CI',
      'holdout n',
      'responders',
      'rate',
      'lift',
      '95 % CI',
      'p',
      'test',
      'p (Holm)',
    ],
    rows.map((r, i) => {
      const k = (f: string) => `breakdowns.${title}.${i}.${f}`;
      return [
        esc(r.value),
        num(k('treatment.n'), r.treatment.n, count(r.treatment.n)),
        num(k('treatment.responders'), r.treatment.responders, count(r.treatment.responders)),
        num(k('treatment.rate'), r.treatment.rate, percent(r.treatment.rate)),
        esc(range(r.treatment.ci95, (x) => percent(x))),
        r.holdout ? num(k('holdout.n'), r.holdout.n, count(r.holdout.n)) : '–',
        r.holdout ? count(r.holdout.responders) : '–',
        r.holdout ? percent(r.holdout.rate) : '–',
        num(k('lift.absolute'), r.lift.absolute, points(r.lift.absolute)),
        esc(range(r.lift.absolute_ci95, points)),
        num(k('lift.p_value'), r.lift.p_value, pValue(r.lift.p_value)),
        esc(testName(r.lift.test)),
        esc(pValue(r.p_value_holm)),
      ];
    }),
  );
}

export async function reportHtml(r: CampaignReport): Promise<string> {
  const c = r.cost;
  const l = r.lift;
  const [curve, waveCurves, overall, bands] = await Promise.all([
    curveChart(r),
    r.curve_by_wave.length ? waveCurvesChart(r) : Promise.resolve(''),
    ratesChart(
      [
        {
          value: 'campaign',
          treatment: r.treatment,
          holdout: r.holdout,
          lift: l,
          incremental_responders: r.incremental_responders,
          p_value_holm: null,
        },
      ],
      '',
    ),
    r.breakdowns.band.length ? ratesChart(r.breakdowns.band, 'band') : Promise.resolve(''),
  ]);
  const tiles = [
    tile(
      'treated response rate',
      num('treatment.rate', r.treatment.rate, percent(r.treatment.rate)),
      `${num('treatment.responders', r.treatment.responders, count(r.treatment.responders))} of ${num('treatment.n', r.treatment.n, count(r.treatment.n))} · 95 % CI ${esc(range(r.treatment.ci95, (x) => percent(x)))}`,
    ),
    tile(
      'holdout response rate',
      num('holdout.rate', r.holdout.rate, percent(r.holdout.rate)),
      `${num('holdout.responders', r.holdout.responders, count(r.holdout.responders))} of ${num('holdout.n', r.holdout.n, count(r.holdout.n))} · 95 % CI ${esc(range(r.holdout.ci95, (x) => percent(x)))}`,
    ),
    tile(
      'lift',
      num('lift.absolute', l.absolute, points(l.absolute)),
      `95 % CI ${esc(range(l.absolute_ci95, points))} · relative ${num('lift.relative', l.relative, signedPercent(l.relative))} (${esc(range(l.relative_ci95, signedPercent))})`,
    ),
    tile('p-value', num('lift.p_value', l.p_value, pValue(l.p_value)), esc(testName(l.test))),
    tile(
      'incremental responders',
      num(
        'incremental_responders.estimate',
        r.incremental_responders.estimate,
        count(r.incremental_responders.estimate, 1),
      ),
      `95 % CI ${esc(range(r.incremental_responders.ci95, (x) => count(x, 1)))}`,
    ),
    tile(
      'cost per incremental response',
      num('cost.per_incremental_response', c.per_incremental_response, money(c.per_incremental_response, c.currency)),
      esc(
        c.per_incremental_response_ci95
          ? `${money(c.per_incremental_response_ci95[0], c.currency)} to ${money(c.per_incremental_response_ci95[1], c.currency)}${c.per_incremental_response_note ? ` · ${c.per_incremental_response_note}` : ''}`
          : (c.per_incremental_response_note ?? ''),
      ),
    ),
    tile(
      'ROI',
      num('cost.roi', c.roi, c.roi === null ? '–' : signedPercent(c.roi)),
      'incremental revenue − cost, over cost',
    ),
    tile(
      'cost against budget',
      num('cost.total', c.total, money(c.total, c.currency)),
      `pieces ${num('cost.pieces', c.pieces, money(c.pieces, c.currency))} + gifts ${num('cost.gifts', c.gifts, money(c.gifts, c.currency))} · budget ${num('cost.budget', c.budget, c.budget === null ? 'none' : money(c.budget, c.currency))} · per response ${num('cost.per_response', c.per_response, money(c.per_response, c.currency))}`,
    ),
  ];
  if (r.goal)
    tiles.push(
      tile(
        `goal: ${r.goal.kind}`,
        `${num('goal.actual_by_deadline', r.goal.actual_by_deadline, count(r.goal.actual_by_deadline))} / ${num('goal.target', r.goal.target, count(r.goal.target))}`,
        `by ${esc(r.goal.by.slice(0, 10))}${r.goal.met ? ' · met' : ' · not met'} · ${num('goal.actual', r.goal.actual, count(r.goal.actual))} so far`,
      ),
    );
  const waves = table(
    'waves',
    ['wave', 'channel', 'sent', 'failed', 'uncertain', 'printed, unconfirmed', 'pending', 'window from', 'to'],
    r.waves.map((w, i) => {
      const win = r.attribution.windows.find((x) => x.wave === w.wave);
      return [
        esc(w.wave),
        esc(w.channel),
        num(`waves.${i}.sent`, w.sent, count(w.sent)),
        count(w.failed),
        num(`waves.${i}.uncertain`, w.uncertain, count(w.uncertain)),
        count(w.printed_unconfirmed),
        count(w.pending),
        esc(win?.starts_at.slice(0, 10) ?? '–'),
        esc(win?.ends_at.slice(0, 10) ?? '–'),
      ];
    }),
  );
  const pairs = table(
    'variants against each other',
    ['a', 'b', 'difference', '95 % CI', 'p', 'p (Holm)'],
    r.breakdowns.variant_pairs.map((p) => [
      esc(p.a),
      esc(p.b),
      points(p.lift.absolute),
      esc(range(p.lift.absolute_ci95, points)),
      pValue(p.lift.p_value),
      pValue(p.p_value_holm),
    ]),
  );
  const bandCosts = table(
    'cost by band',
    ['band', 'pieces', 'gifts', 'gift cost', 'cost', 'per response'],
    c.by_band.map((b, i) => [
      esc(b.band),
      num(`cost.by_band.${i}.pieces`, b.pieces, count(b.pieces)),
      num(`cost.by_band.${i}.gifts`, b.gifts, count(b.gifts)),
      num(`cost.by_band.${i}.gift_cost`, b.gift_cost, money(b.gift_cost, c.currency)),
      num(`cost.by_band.${i}.cost`, b.cost, money(b.cost, c.currency)),
      num(`cost.by_band.${i}.per_response`, b.per_response, money(b.per_response, c.currency)),
    ]),
  );
  const giftRows = table(
    'gifts handed out',
    ['band', 'offer', 'gifts', 'unit cost', 'cost'],
    c.gifts_by_offer.map((g, i) => [
      esc(g.band ?? '(none)'),
      esc(g.offer),
      num(`cost.gifts_by_offer.${i}.gifts`, g.gifts, count(g.gifts)),
      g.unit_cost === null ? 'no unit_cost' : money(g.unit_cost, c.currency),
      num(`cost.gifts_by_offer.${i}.cost`, g.cost, money(g.cost, c.currency)),
    ]),
  );
  const srm = r.checks.sample_ratio;
  const checks = [
    `<li>data as of ${esc(r.as_of)}; latest response or order recorded ${esc(r.latest_data_at ?? 'never')}</li>`,
    `<li>${r.provisional ? `<b>provisional</b>: ${esc(r.provisional_reason)}` : 'final: every attribution window has closed'}</li>`,
    srm
      ? `<li>sample ratio: χ² = ${srm.chi2.toFixed(2)}, p = ${num('checks.sample_ratio.p_value', srm.p_value, pValue(srm.p_value))} ${srm.flagged ? '<b>— the split differs from the plan</b>' : '(matches the plan)'}</li>`
      : '<li>sample ratio: not applicable</li>',
    ...r.checks.match_rate.map(
      (m, i) => `<li>${esc(matchLine(m))} ${num(`checks.match_rate.${i}.rate`, m.rate, '')}</li>`,
    ),
    `<li>responses after the window (not counted): ${num('checks.responses_after_window', r.checks.responses_after_window, count(r.checks.responses_after_window))}</li>`,
    `<li>power: ${esc(r.checks.power.message)}</li>`,
    ...r.overlap.map(
      (o, i) =>
        `<li>${num(`overlap.${i}.shared_responders`, o.shared_responders, count(o.shared_responders))} responders also count for campaign ${esc(o.campaign)}</li>`,
    ),
    ...r.checks.notes.map((n) => `<li>${esc(n)}</li>`),
  ];
  const page = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:">
<style>@font-face{font-family:"Noto Sans SC";src:url(data:font/ttf;base64,@FONT@) format("truetype")}</style>
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.name)} — campaign report</title>
<style>
body{font-family:"Noto Sans SC","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem;margin-bottom:.2rem}.muted{color:#656d76}
.verdict{font-size:1.1rem;background:#f6f8fa;border-left:4px solid #1f6feb;padding:.8rem 1rem;margin:1rem 0}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:.8rem}
.tile{border:1px solid #d0d7de;border-radius:6px;padding:.7rem}.tile .label{color:#656d76;font-size:.85rem}
.tile .main{font-size:1.5rem;font-weight:600}.tile .sub{font-size:.8rem;color:#656d76}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}th,td{border-bottom:1px solid #d0d7de;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}svg{max-width:100%;height:auto}
</style></head><body>
<h1>${esc(r.name)}</h1>
<div class="muted">${esc(r.campaign)} · ${esc(r.status)} · as of ${esc(r.as_of)}${r.provisional ? ' · <b>provisional</b>' : ''}</div>
<p class="verdict" data-key="verdict">${esc(r.verdict)}</p>
<div class="tiles">${tiles.join('')}</div>
<h2>Response rates</h2>${overall}
<h2>Cumulative response by day</h2>${curve}
${waveCurves ? `<h2>Cumulative response by day since each wave</h2>${waveCurves}` : ''}
${bands ? `<h2>By band</h2>${bands}` : ''}
<h2>Tables</h2>
${waves}
${bandCosts}
${giftRows}
${breakdownTable('wave', 'wave', r.breakdowns.wave)}
${breakdownTable('channel', 'channel', r.breakdowns.channel)}
${breakdownTable('band', 'band', r.breakdowns.band)}
${breakdownTable('variant', 'variant', r.breakdowns.variant)}
${pairs}
<p>Winner: ${esc(r.winner.variant ?? '—')} (${esc(r.winner.reason)})</p>
${breakdownTable('segment', 'segment', r.breakdowns.segment)}
${breakdownTable('cohort', 'cohort', r.breakdowns.cohort)}
${breakdownTable('tier', 'tier', r.breakdowns.tier)}
${breakdownTable('province', 'province', r.breakdowns.province)}
<h2>Checks</h2><ul>${checks.join('')}</ul>
</body></html>
`;
  // The page carries the glyphs of its own text, so Chinese renders without a CJK font installed.
  return page.replace('@FONT@', webFontFor(page).toString('base64'));
}
