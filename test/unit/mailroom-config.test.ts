import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSegments } from '../../pipeline/audience/load.ts';
import { tempDir } from '../helpers/csv.ts';

describe('mailroom.yaml', () => {
  const dir = tempDir();
  const saved = process.env.MAILROOM_CONFIG;
  afterEach(() => {
    if (saved === undefined) delete process.env.MAILROOM_CONFIG;
    else process.env.MAILROOM_CONFIG = saved;
  });

  it('replaces built-in segments, adds its own, and sets the frequency cap', () => {
    const file = join(dir, 'mailroom.yaml');
    writeFileSync(
      file,
      [
        'frequency_cap: { max_contacts: 4, days: 30 }',
        'segments:',
        '  tier-vip:',
        "    rules: { field: annual_spend, op: '>=', value: 20000 }",
        '  shanghai:',
        "    rules: { field: city, op: '=', value: 上海市 }",
      ].join('\n'),
    );
    process.env.MAILROOM_CONFIG = file;
    const { registry, config } = loadSegments();
    expect(config.frequencyCap).toEqual({ maxContacts: 4, days: 30 });
    expect(registry.get('tier-vip')!.rules).toMatchObject({ kind: 'compare', op: '>=', value: 20000 });
    expect(registry.get('tier-vip')!.origin).toBe(`${file}:4`);
    expect(registry.get('shanghai')).toBeDefined();
    expect(registry.get('tier-gold')).toBeDefined();
  });

  it('reads segments from included standalone files, the including file having the last word', () => {
    writeFileSync(
      join(dir, 'retail.yaml'),
      [
        'segments:',
        '  big-spenders:',
        "    rules: { field: cumulative_spend, op: '>=', value: 10000 }",
        '  shanghai:',
        "    rules: { field: city, op: '=', value: x }",
      ].join('\n'),
    );
    const campaign = join(dir, 'campaign.yaml');
    writeFileSync(
      campaign,
      [
        'include: [retail.yaml]',
        'segments:',
        '  shanghai:',
        "    rules: { field: city, op: '=', value: 上海市 }",
        'audience: { segment: big-spenders }',
      ].join('\n'),
    );
    delete process.env.MAILROOM_CONFIG;
    const { registry } = loadSegments(campaign);
    expect(registry.get('big-spenders')!.origin).toBe(`${join(dir, 'retail.yaml')}:3`);
    expect(registry.get('shanghai')!.rules).toMatchObject({ value: '上海市' });
    writeFileSync(campaign, ['name: x', 'include:', '  - missing.yaml'].join('\n'));
    expect(() => loadSegments(campaign)).toThrow(
      `${campaign}:3: include[0]: cannot read ${join(dir, 'missing.yaml')}: no such file`,
    );
  });

  it('names the line of a bad setting', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['frequency_cap:', '  max_contacts: many', '  days: 30'].join('\n'));
    process.env.MAILROOM_CONFIG = file;
    expect(() => loadSegments()).toThrow(
      `${file}:2: frequency_cap.max_contacts: Invalid input: expected number, received string`,
    );
  });
});
