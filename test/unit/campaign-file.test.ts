import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findWave, loadCampaign, waveTemplateName } from '../../campaign/campaign-file.ts';
import { tempDir } from '../helpers/csv.ts';

const dir = tempDir();
function campaign(lines: string[]): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, lines.join('\n'));
  return file;
}
const base = ['name: spring-2026', 'audience: { segment: key-accounts }'];

describe('campaign files', () => {
  it('read waves, offers and variant templates', () => {
    const c = loadCampaign(campaign([...base, 'offers: { A: 电饭煲 }', 'waves:', '  - { name: letter, channel: mail, template: { x: letter-x, default: letter } }', '  - { name: sms, channel: sms, template: t, after: 36h }']));
    expect(c).toMatchObject({ slug: 'spring-2026', title: 'spring-2026', offers: { A: '电饭煲' } });
    expect(c.waves.map((w) => [w.name, w.after, w.to])).toEqual([['letter', '0s', 'all'], ['sms', '36h', 'all']]);
    expect(waveTemplateName(findWave(c, 'letter'), 'x')).toBe('letter-x');
    expect(waveTemplateName(findWave(c, 'letter'), 'y')).toBe('letter');
    expect(() => findWave(c, 'email')).toThrow(/has no wave "email"; its waves: letter, sms/);
    expect(() => findWave(c, 'sms', 'mail')).toThrow('is a sms wave, not mail');
  });

  it('name the line and path of every mistake', () => {
    expect(() => loadCampaign(campaign([...base, 'waves:', '  - { name: a, channel: mail, template: t }', '  - { name: b, channel: fax, template: t, after: 7days }'])))
      .toThrow(/:5: waves\[1\]\.channel: Invalid option: expected one of "mail"\|"email"\|"sms"\n.*:5: waves\[1\]\.after: a duration such as 90s, 30m, 36h, 7d or 2w/);
    expect(() => loadCampaign(campaign(['name: Spring 2026', 'audience: { segment: key-accounts }', 'waves: [{ name: a, channel: mail, template: t }]'])))
      .toThrow(/:1: name: use lower-case letters, digits and dashes/);
    expect(() => loadCampaign(campaign([...base, 'waves:', '  - { name: a, channel: mail, template: t }', '  - { name: a, channel: sms, template: t }'])))
      .toThrow(/:5: waves\[1\]\.name: another wave is already called a/);
    expect(() => loadCampaign(campaign([...base, 'waves: []']))).toThrow(/:3: waves: a campaign needs at least one wave/);
  });
});
