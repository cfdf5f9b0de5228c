// Following a running campaign: polls its progress query until the workflow ends, with one
// progress bar per wave on a terminal. `onProgress` lets a caller act on what it sees (the demo
// confirms mail waves and skips waits) or stop following while the campaign goes on.
import cliProgress from 'cli-progress';
import type { Client } from '@temporalio/client';
import { campaignStatus } from './api.ts';
import type { CampaignProgress, WaveProgress } from '../workflows/contract.ts';

type Status = Awaited<ReturnType<typeof campaignStatus>>;

// Recovered sends are in `sent` already; only those left uncertain are added.
const done = (w: WaveProgress) => w.sent + w.failed + w.suppressed + w.uncertain - (w.recovered ?? 0);

function waveLine(w: WaveProgress): Record<string, string | number> {
  const extra =
    w.status === 'awaiting_confirmation'
      ? ' — waiting for `mailroom mail confirm`'
      : w.deferred
        ? ` — ${w.deferred} deferred (quiet hours)`
        : '';
  return { wave: w.name.padEnd(12), channel: w.channel.padEnd(5), state: `${w.status}${extra}` };
}

export async function followCampaign(
  client: Client,
  slug: string,
  opts: {
    intervalMs?: number;
    bars?: boolean;
    onProgress?: (p: Status) => Promise<'stop' | void> | 'stop' | void;
  } = {},
): Promise<Status> {
  const bars =
    opts.bars !== false && process.stderr.isTTY
      ? new cliProgress.MultiBar(
          {
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: false,
            format: '{wave} {channel} [{bar}] {value}/{total} {state}',
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  const perWave = new Map<string, cliProgress.SingleBar>();
  const draw = (p: CampaignProgress) => {
    if (!bars) return;
    for (const w of p.waves) {
      const total = Math.max(w.planned + w.suppressed, 1);
      let bar = perWave.get(w.name);
      if (!bar) perWave.set(w.name, (bar = bars.create(total, 0, waveLine(w))));
      bar.setTotal(total);
      bar.update(
        w.channel === 'mail' && w.status === 'awaiting_confirmation' ? 0 : Math.min(done(w), total),
        waveLine(w),
      );
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
