// Following a running campaign: polls its progress until the workflow ends. On a terminal, one
// progress bar per wave; otherwise (a pipe, a log file) one line per change of state, so that a log
// of a campaign that runs for weeks says what happened when. `onProgress` lets a caller act on
// what it sees (the demo confirms mail waves and skips waits) or stop following.
import cliProgress from 'cli-progress';
import type { Client } from '@temporalio/client';
import { campaignStatus, type CampaignState } from './api.ts';
import { FINAL_WAVE_STATUSES, type WaveProgress } from '../workflows/contract.ts';

type Status = CampaignState;

/** A time for people: 2026-12-08 09:30 UTC. */
export const shownTime = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/**
 * A wave's progress as done/total. `planned` counts every member the wave targets, the suppressed
 * among them, for email and SMS; a mail wave's `planned` is its printed pieces, done once posted.
 * Undefined before the wave has started (nothing is planned yet).
 */
export function waveCounts(w: WaveProgress): { done: number; total: number } | undefined {
  if (w.planned === 0 && ['waiting', 'printing', 'assigning'].includes(w.status)) return undefined;
  // A call wave's task is done once settled (reached or failed); when the wave ends, overdue ones count as done too.
  if (w.channel === 'call')
    return {
      done: (w.calls?.settled ?? 0) + (FINAL_WAVE_STATUSES.includes(w.status) ? (w.calls?.overdue ?? 0) : 0),
      total: w.planned,
    };
  if (w.channel === 'mail') return { done: w.status === 'mailed' ? w.sent : 0, total: w.planned };
  // Recovered sends are in `sent` already; only those left uncertain are added.
  const done = w.sent + w.failed + w.suppressed + w.uncertain - (w.recovered ?? 0);
  return { done: Math.min(done, w.planned), total: w.planned };
}

export const countsText = (w: WaveProgress) => {
  const c = waveCounts(w);
  return c ? `${c.done}/${c.total}` : 'not started';
};

/** What comes next for a wave, when something does: until when it waits, where its letters are and by when to confirm them. */
export function waveNext(slug: string, w: WaveProgress): string | undefined {
  if (w.status === 'waiting' && w.waitUntil) return `waits until ${shownTime(w.waitUntil)}`;
  if (w.status === 'awaiting_confirmation')
    return [
      w.printDir ? `print files in ${w.printDir}` : undefined,
      `confirm the posting${w.confirmBy ? ` by ${shownTime(w.confirmBy)}` : ''} with \`mailroom mail confirm ${slug} --wave ${w.name} --date YYYY-MM-DD\`${w.confirmBy ? ' (unconfirmed then, the wave ends unconfirmed)' : ''}`,
    ]
      .filter(Boolean)
      .join('; ');
  if (w.status === 'sending' && w.deferred) return `${w.deferred} deferred (quiet hours)`;
  if (w.channel === 'call' && w.calls) return callsText(w);
  return undefined;
}

/** "8 reached (3 appointments), 1 failed, 2 open, 1 overdue; due 2026-12-07 09:00 UTC" */
export function callsText(w: WaveProgress): string {
  const c = w.calls!;
  const parts = [`${c.reached} reached (${c.appointments} appointments)`, `${c.failed} failed`, `${c.open} open`];
  if (c.overdue) parts.push(`${c.overdue} overdue`);
  const due = w.dueAt && !FINAL_WAVE_STATUSES.includes(w.status) ? `; due ${shownTime(w.dueAt)}` : '';
  return `${parts.join(', ')}${due}`;
}

function waveLine(w: WaveProgress): Record<string, string | number> {
  const extra =
    w.status === 'awaiting_confirmation'
      ? ' — waiting for `mailroom mail confirm`'
      : w.deferred
        ? ` — ${w.deferred} deferred (quiet hours)`
        : '';
  return {
    wave: w.name.padEnd(12),
    channel: w.channel.padEnd(5),
    counts: countsText(w),
    state: `${w.status}${extra}`,
  };
}

/** One line per change of state: the campaign's status (and why it needs attention), each wave's status. */
export function stateLines(slug: string, p: Status, seen: Map<string, string>): string[] {
  const lines: string[] = [];
  const campaignState = [p.status, p.attention?.message ?? '', p.error ?? ''].join('|');
  if (seen.get('') !== campaignState) {
    seen.set('', campaignState);
    let line = `${slug}: ${p.status}`;
    if (p.attention) line += ` — ${p.attention.step} failed: ${p.attention.message}`;
    if (p.error) line += ` — ${p.error}`;
    if (p.windowEndsAt) line += ` — responses awaited until ${shownTime(p.windowEndsAt)}`;
    lines.push(line);
  }
  for (const w of p.waves) {
    const state = [w.status, w.waitUntil ?? ''].join('|');
    if (seen.get(`wave:${w.name}`) === state) continue;
    seen.set(`wave:${w.name}`, state);
    const next = waveNext(slug, w);
    lines.push(`${slug} wave ${w.name} (${w.channel}): ${w.status} ${countsText(w)}${next ? ` — ${next}` : ''}`);
  }
  return lines;
}

export async function followCampaign(
  client: Client,
  slug: string,
  opts: {
    intervalMs?: number;
    /** Show how it goes on stderr: bars on a terminal, lines otherwise. Off for scripts. */
    bars?: boolean;
    onProgress?: (p: Status) => Promise<'stop' | void> | 'stop' | void;
  } = {},
): Promise<Status> {
  const show = opts.bars !== false;
  const bars =
    show && process.stderr.isTTY
      ? new cliProgress.MultiBar(
          {
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: false,
            format: '{wave} {channel} [{bar}] {counts} {state}',
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  const seen = new Map<string, string>();
  const perWave = new Map<string, cliProgress.SingleBar>();
  const draw = (p: Status) => {
    if (!show) return;
    if (!bars) {
      const stamp = new Date().toISOString().slice(0, 19) + 'Z';
      for (const line of stateLines(slug, p, seen)) process.stderr.write(`${stamp} ${line}\n`);
      return;
    }
    for (const w of p.waves) {
      const c = waveCounts(w);
      const total = Math.max(c?.total ?? 0, 1);
      let bar = perWave.get(w.name);
      if (!bar) perWave.set(w.name, (bar = bars.create(total, 0, waveLine(w))));
      bar.setTotal(total);
      bar.update(c?.done ?? 0, waveLine(w));
    }
  };
  try {
    for (;;) {
      const p = await campaignStatus(client, slug);
      draw(p);
      if (p.workflowStatus !== 'RUNNING') return p;
      if ((await opts.onProgress?.(p)) === 'stop') return p;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
    }
  } finally {
    bars?.stop();
  }
}
