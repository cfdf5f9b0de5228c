// The report's charts as inline SVG: Vega-Lite specs compiled to Vega and rendered headless in Node
// (renderer 'none', so no canvas and no network; the data are inlined as values).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BreakdownRow, CampaignReport } from './build.ts';

const FONT = 'Noto Sans SC, Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif';
const CONFIG = {
  font: FONT,
  axis: { labelFont: FONT, titleFont: FONT },
  legend: { labelFont: FONT, titleFont: FONT },
  title: { font: FONT },
};

async function render(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // The namespace URIs are names, not requests; nothing else in the SVG refers outside it.
    return svg;
  } finally {
    view.finalize();
  }
}

/** The cumulative share that has responded by day, one line per group (treated, holdout). */
const stepLine = (xTitle: string) => ({
  mark: { type: 'line' as const, interpolate: 'step-after' as const },
  encoding: {
    x: { field: 'day', type: 'quantitative' as const, title: xTitle },
    y: { field: 'rate', type: 'quantitative' as const, title: 'responded (cumulative)', axis: { format: '.1%' } },
    color: {
      field: 'group',
      type: 'nominal' as const,
      title: null,
      scale: { domain: ['treated', 'holdout'], range: ['#1f6feb', '#9a6700'] },
    },
  },
});

/** Cumulative share of each group that has responded, by day since the first wave's date. */
export function curveChart(report: CampaignReport): Promise<string> {
  const values = report.curve.flatMap((p) => [
    { day: p.day, group: 'treated', rate: p.treatment ?? 0 },
    { day: p.day, group: 'holdout', rate: p.holdout ?? 0 },
  ]);
  const waveDays = report.attribution.windows.map((w) => ({
    wave: w.wave,
    day: report.attribution.starts_at
      ? Math.floor((Date.parse(w.starts_at) - Date.parse(report.attribution.starts_at)) / 86_400_000)
      : 0,
  }));
  return render({
    width: 640,
    height: 260,
    config: CONFIG,
    layer: [
      {
        data: { values },
        ...stepLine('days since the first wave'),
      },
      {
        data: { values: waveDays },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#888' },
        encoding: { x: { field: 'day', type: 'quantitative' } },
      },
      {
        data: { values: waveDays },
        mark: { type: 'text', align: 'left', dx: 3, dy: -120, color: '#555' },
        encoding: { x: { field: 'day', type: 'quantitative' }, text: { field: 'wave' } },
      },
    ],
  });
}

/** Per wave, by day since its date: the share of the members it reached and of the holdout that has responded. */
export function waveCurvesChart(report: CampaignReport): Promise<string> {
  const values = report.curve_by_wave.flatMap((w) =>
    w.points.flatMap((p) => [
      { wave: `${w.wave} (${w.channel})`, day: p.day, group: 'treated', rate: p.treatment ?? 0 },
      { wave: `${w.wave} (${w.channel})`, day: p.day, group: 'holdout', rate: p.holdout ?? 0 },
    ]),
  );
  return render({
    config: CONFIG,
    data: { values },
    facet: { row: { field: 'wave', type: 'nominal', title: null } },
    spec: {
      width: 640,
      height: 160,
      ...stepLine("days since the wave's date"),
    },
  });
}

/** Rates with their 95 % intervals, treated and holdout, for each row of a breakdown (or the whole campaign). */
export function ratesChart(rows: BreakdownRow[], title: string): Promise<string> {
  const values = rows.flatMap((r) =>
    [
      { key: r.value, group: 'treated', g: r.treatment },
      { key: r.value, group: 'holdout', g: r.holdout },
    ]
      .filter((x) => x.g && x.g.rate !== null)
      .map((x) => ({ key: x.key, group: x.group, rate: x.g!.rate, lo: x.g!.ci95![0], hi: x.g!.ci95![1] })),
  );
  const y = { field: 'key', type: 'nominal' as const, title };
  const yOffset = { field: 'group', type: 'nominal' as const };
  const color = {
    field: 'group',
    type: 'nominal' as const,
    title: null,
    scale: { domain: ['treated', 'holdout'], range: ['#1f6feb', '#9a6700'] },
  };
  return render({
    width: 560,
    height: { step: 14 },
    config: CONFIG,
    data: { values },
    layer: [
      {
        mark: 'rule',
        encoding: {
          y,
          yOffset,
          x: { field: 'lo', type: 'quantitative', title: 'rate with 95 % interval', axis: { format: '.0%' } },
          x2: { field: 'hi' },
          color,
        },
      },
      {
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { y, yOffset, x: { field: 'rate', type: 'quantitative' }, color },
      },
    ],
  });
}
