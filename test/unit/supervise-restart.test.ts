// The dev stack's supervision of its children, with real processes: one killed outright comes
// back; one that dies at once every time is given up on with the reason, instead of looping.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startChild, waitUntilReady, type ManagedChild } from '../../dev/child-process.ts';
import { supervise, type RestartPolicy } from '../../dev/supervise.ts';
import { processAlive } from '../../dev/stack-state.ts';
import { tempDir } from '../helpers/csv.ts';

const quick: RestartPolicy = { maxRestarts: 3, windowMs: 60_000, firstDelayMs: 20, maxDelayMs: 100 };

describe('supervise', () => {
  it('starts a child that was killed with SIGKILL again, says so, and reports the new one', async () => {
    const log = join(tempDir('mailroom-supervise-'), 'sleeper.log');
    const spawn = () =>
      startChild('sleeper', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { logPath: log });
    const lines: string[] = [];
    const restarted: ManagedChild[] = [];
    const first = spawn();
    const supervised = supervise(first, {
      what: 'the sleeper',
      respawn: { spawn, ready: async () => {} },
      say: (line) => lines.push(line),
      onRestarted: (child) => restarted.push(child),
      policy: quick,
    });
    first.process.kill('SIGKILL');
    while (!restarted.length) await new Promise((r) => setTimeout(r, 20));
    const second = restarted[0]!;
    expect(second.process.pid).not.toBe(first.process.pid);
    expect(supervised.child).toBe(second);
    expect(processAlive(second.process.pid!)).toBe(true);
    expect(lines[0]).toMatch(
      /^The sleeper exited \(signal SIGKILL\); restarting it in 0\.02 s \(restart 1 of at most 3/,
    );
    expect(lines[1]).toBe(`The sleeper is running again (pid ${second.process.pid}).`);
    await supervised.stop(2000);
    expect(processAlive(second.process.pid!)).toBe(false);
    // Stopped on purpose: not given up on, not restarted.
    const outcome = await Promise.race([supervised.gaveUp, new Promise((r) => setTimeout(() => r('still'), 300))]);
    expect(outcome).toBe('still');
    expect(restarted).toHaveLength(1);
  });

  it('gives up on a child that dies at once every time, with its exit and its log', async () => {
    const log = join(tempDir('mailroom-supervise-'), 'crasher.log');
    let spawned = 0;
    const spawn = () => {
      spawned++;
      return startChild('crasher', process.execPath, ['-e', 'console.error("no config"); process.exit(3)'], {
        logPath: log,
      });
    };
    const lines: string[] = [];
    const supervised = supervise(spawn(), {
      what: 'the crasher',
      respawn: {
        spawn,
        ready: (child) => waitUntilReady(child, async () => false, { limitMs: 30_000, what: 'the crasher' }),
      },
      say: (line) => lines.push(line),
      policy: quick,
    });
    const reason = await supervised.gaveUp;
    expect(reason).toMatch(/^The crasher exited \(code 3\) 4 times within 1 min; not restarting it again\./);
    expect(reason).toContain('no config');
    expect(spawned).toBe(4);
    expect(lines.filter((l) => l.includes('did not come back'))).toHaveLength(3);
    expect(lines.filter((l) => /restarting it in/.test(l)).map((l) => /in ([\d.]+) s/.exec(l)![1])).toEqual([
      '0.02',
      '0.04',
      '0.08',
    ]);
    await supervised.stop();
  });
});
