import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findWave, loadCampaign, waveTemplateName } from '../../pipeline/campaign/campaign-file.ts';
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
    const c = loadCampaign(
      campaign([
        ...base,
        'offers: { A: 电饭煲 }',
        'waves:',
        '  - { name: letter, channel: mail, template: { x: letter-x, default: letter } }',
        '  - { name: sms, channel: sms, template: t, after: 36h }',
      ]),
    );
    expect(c).toMatchObject({ slug: 'spring-2026', title: 'spring-2026', offers: { A: '电饭煲' } });
    expect(c.waves.map((w) => [w.name, w.after, w.to])).toEqual([
      ['letter', '0s', 'all'],
      ['sms', '36h', 'all'],
    ]);
    expect(waveTemplateName(findWave(c, 'letter'), 'x')).toBe('letter-x');
    expect(waveTemplateName(findWave(c, 'letter'), 'y')).toBe('letter');
    expect(() => findWave(c, 'email')).toThrow(/has no wave "email"; its waves: letter, sms/);
    expect(() => findWave(c, 'sms', 'mail')).toThrow('is a sms wave, not mail');
  });

  it('name the line and path of every mistake', () => {
    expect(() =>
      loadCampaign(
        campaign([
          ...base,
          'waves:',
          '  - { name: a, channel: mail, template: t }',
          '  - { name: b, channel: fax, template: t, after: 7days }',
        ]),
      ),
    ).toThrow(
      /:5: waves\[1\]\.channel: Invalid option: expected one of "mail"\|"email"\|"sms"\n.*:5: waves\[1\]\.after: a duration such as 90s, 30m, 36h, 7d or 2w/,
    );
    expect(() =>
      loadCampaign(
        campaign([
          'name: Spring 2026',
          'audience: { segment: key-accounts }',
          'waves: [{ name: a, channel: mail, template: t }]',
        ]),
      ),
    ).toThrow(/:1: name: use lower-case letters, digits and dashes/);
    expect(() =>
      loadCampaign(
        campaign([
          ...base,
          'waves:',
          '  - { name: a, channel: mail, template: t }',
          '  - { name: a, channel: sms, template: t }',
        ]),
      ),
    ).toThrow(/:5: waves\[1\]\.name: another wave is already called a/);
    expect(() => loadCampaign(campaign([...base, 'waves: []']))).toThrow(
      /:3: waves: a campaign needs at least one wave/,
    );
  });

  it('report every schema mistake of a file at once, each with its line and path', () => {
    const file = campaign([
      ...base,
      'response_kinds: [click, ordr]',
      'currency: rmb',
      'waves:',
      '  - name: letter',
      '    channel: mial',
      '    template: t',
      '  - { name: sms, channel: sms, template: t, after: 2 days }',
    ]);
    let message = '';
    try {
      loadCampaign(file);
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^${file}:3: response_kinds\\[1\\]: Invalid option: expected one of .*"order"`),
        ),
        expect.stringMatching(new RegExp(`^${file}:4: currency: an ISO 4217 code such as CNY, EUR or USD$`)),
        expect.stringMatching(
          new RegExp(`^${file}:7: waves\\[0\\]\\.channel: Invalid option: expected one of "mail"\\|"email"\\|"sms"$`),
        ),
        expect.stringMatching(
          new RegExp(`^${file}:9: waves\\[1\\]\\.after: a duration such as 90s, 30m, 36h, 7d or 2w$`),
        ),
      ]),
    );
  });

  it('accept a wave target that is all, non-responders, responders or a rules-only segment, and name any other', () => {
    const waves = (to: string) => [
      'waves:',
      '  - { name: a, channel: mail, template: t }',
      `  - { name: b, channel: sms, template: t, to: ${to} }`,
    ];
    for (const to of ['all', 'non-responders', 'responders', 'tier-gold'])
      expect(loadCampaign(campaign([...base, ...waves(to)])).waves[1]!.to).toBe(to);
    expect(() => loadCampaign(campaign([...base, ...waves('vips')]))).toThrow(
      /:5: waves\[1\]\.to: "vips" is neither all, non-responders, responders nor a known segment \(known: .*tier-vip.*key-accounts/,
    );
    // A segment that ranks picks its own members; it cannot narrow a wave.
    const ranked = [
      'segments:',
      '  top-100: { rules: { field: annual_spend, op: ">=", value: 1 }, top: { n: 100, by: annual_spend } }',
    ];
    expect(() => loadCampaign(campaign([...base, ...ranked, ...waves('top-100')]))).toThrow(
      /:7: waves\[1\]\.to: segment top-100 ranks or samples; a wave can narrow to a segment defined by rules alone/,
    );
  });
});
