// Wave totals on bars, status tables and log lines: planned already counts the suppressed, so a
// finished wave reads n/n; a mail wave counts printed pieces, done once posted; a wave that has
// not started reads "not started", not 0/1.
import { describe, expect, it } from 'vitest';
import { countsText, stateLines, waveCounts } from '../../client/follow.ts';
import type { CampaignState } from '../../client/api.ts';
import type { WaveProgress } from '../../workflows/contract.ts';

const wave = (w: Partial<WaveProgress>): WaveProgress => ({
  name: 'w',
  channel: 'email',
  status: 'done',
  planned: 0,
  sent: 0,
  failed: 0,
  uncertain: 0,
  suppressed: 0,
  deferred: 0,
  ...w,
});

describe('wave totals', () => {
  it('a finished email wave with suppressed members reads n/n (399 sent + 67 suppressed of 466 planned)', () => {
    expect(waveCounts(wave({ planned: 466, sent: 399, suppressed: 67 }))).toEqual({ done: 466, total: 466 });
    expect(countsText(wave({ planned: 530, sent: 428, failed: 2, suppressed: 100 }))).toBe('530/530');
  });
  it('counts recovered sends once and uncertain ones as done', () => {
    expect(countsText(wave({ status: 'sending', planned: 10, sent: 5, uncertain: 3, recovered: 2 }))).toBe('6/10');
  });
  it('a mail wave: printed pieces, done when posted', () => {
    const printed = wave({ channel: 'mail', status: 'awaiting_confirmation', planned: 449, suppressed: 22 });
    expect(countsText(printed)).toBe('0/449');
    expect(countsText({ ...printed, status: 'mailed', sent: 449 })).toBe('449/449');
  });
  it('a wave not started yet reads "not started", not 0/1', () => {
    expect(waveCounts(wave({ status: 'waiting' }))).toBeUndefined();
    expect(countsText(wave({ status: 'waiting' }))).toBe('not started');
  });
});

describe('lines for a log', () => {
  it('one line per change of state, none while nothing changes', () => {
    const seen = new Map<string, string>();
    const state = (status: CampaignState['status'], waves: WaveProgress[]): CampaignState => ({
      campaign: 'c',
      status,
      workflowStatus: 'RUNNING',
      members: 3,
      contactable: 3,
      holdout: 0,
      suppressed: 0,
      waves,
    });
    const waiting = wave({ name: 'reminder', status: 'waiting', waitUntil: '2026-12-08T09:30:00.000Z' });
    expect(stateLines('c', state('running', [waiting]), seen)).toEqual([
      'c: running',
      'c wave reminder (email): waiting not started — waits until 2026-12-08 09:30 UTC',
    ]);
    expect(stateLines('c', state('running', [waiting]), seen)).toEqual([]);
    const sending = wave({ name: 'reminder', status: 'sending', planned: 3, sent: 1 });
    expect(stateLines('c', state('running', [sending]), seen)).toEqual(['c wave reminder (email): sending 1/3']);
    expect(stateLines('c', state('running', [{ ...sending, sent: 2 }]), seen)).toEqual([]);
  });
});
