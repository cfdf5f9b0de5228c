import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  callWaveSpec,
  findWave,
  loadCampaign,
  loadCampaignText,
  waveTemplateName,
} from '../../pipeline/campaign/campaign-file.ts';
import { waveCallScript, waveTemplate } from '../../pipeline/campaign/wave-templates.ts';
import { checkWaveTemplates } from '../../pipeline/campaign/validate-campaign.ts';
import { paceAt } from '../../pipeline/campaign/goals.ts';
import { SHIPPED_TEMPLATES } from '../../pipeline/render/templates.ts';
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
        'name: spring-2026',
        'audience: { segment: key-accounts, top: { n: 10, by: annual_spend, bands: [{ name: A, ranks: 1-10 }] } }',
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
      /:5: waves\[1\]\.channel: Invalid option: expected one of "mail"\|"email"\|"sms"\|"call"\n.*:5: waves\[1\]\.after: a duration such as 90s, 30m, 36h, 7d or 2w/,
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
          new RegExp(
            `^${file}:7: waves\\[0\\]\\.channel: Invalid option: expected one of "mail"\\|"email"\\|"sms"\\|"call"$`,
          ),
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

  it('refuse offers for a band the audience does not have, naming the key, its line and the bands', () => {
    const banded = [
      'name: spring-2026',
      'audience:',
      '  segment: key-accounts',
      '  top: { n: 160, by: annual_spend, bands: [{ name: gift-oil, ranks: 1-60 }, { name: asset-plan, ranks: 61-160 }] }',
      'offers:',
      '  gift-oil: 花生油',
      '  gift-appliance: 电饭煲',
      'waves: [{ name: a, channel: mail, template: t }]',
    ];
    const file = campaign(banded);
    expect(() => loadCampaign(file)).toThrow(
      `${file}:7: offers.gift-appliance: no band of the audience is called "gift-appliance"; its bands: gift-oil, asset-plan`,
    );
    expect(() =>
      loadCampaign(campaign([...base, 'offers: { A: 电饭煲 }', 'waves: [{ name: a, channel: mail, template: t }]'])),
    ).toThrow(
      /:3: offers\.A: no band of the audience is called "A"; the audience has no bands \(offers go with audience\.top\.bands/,
    );
    // A campaign launched before this check keeps loading from its stored text.
    expect(loadCampaignText(file, banded.join('\n')).offers).toEqual({
      'gift-oil': '花生油',
      'gift-appliance': '电饭煲',
    });
  });

  it('take a holdout written as "20%", and say what a holdout is when it is not a number', () => {
    const withHoldout = (holdout: string) =>
      campaign([
        'name: spring-2026',
        'audience:',
        '  segment: key-accounts',
        `  holdout: ${holdout}`,
        'waves: [{ name: a, channel: mail, template: t }]',
      ]);
    expect(loadCampaign(withHoldout('20%')).audience.holdoutPercent).toBe(20);
    expect(loadCampaign(withHoldout('"12.5 %"')).audience.holdoutPercent).toBe(12.5);
    expect(loadCampaign(withHoldout('10')).audience.holdoutPercent).toBe(10);
    expect(() => loadCampaign(withHoldout('a-fifth'))).toThrow(
      /:4: audience\.holdout: a number of percent, e\.g\. 20 \(or "20%"\)$/,
    );
    expect(() => loadCampaign(withHoldout('60%'))).toThrow(
      /:4: audience\.holdout: Too big: expected number to be <=50/,
    );
  });

  it('name the wave, the line and every folder looked in when a template is missing', () => {
    const file = campaign([
      ...base,
      'waves:',
      '  - { name: letter, channel: mail, template: wealth-letter }',
      '  - { name: card, channel: mail, template: { a: wealth-letter, b: no-such-card } }',
      '  - { name: note, channel: mail, template: ./letters/no-such-note }',
    ]);
    const c = loadCampaign(file);
    expect(waveTemplate(c, c.waves[0]!, null).name).toBe('wealth-letter');
    expect(() => waveTemplate(c, c.waves[1]!, 'b')).toThrow(
      `${file}:5: waves[1].template.b: wave card names template "no-such-card", which is not there: no template.yaml there in ${join(dir, 'templates', 'no-such-card')} (beside the campaign file) and ${join(SHIPPED_TEMPLATES, 'no-such-card')} (shipped with Mailroom)`,
    );
    expect(() => waveTemplate(c, c.waves[2]!, null)).toThrow(
      `${file}:6: waves[2].template: wave note names template "./letters/no-such-note", which is not there: no template.yaml there in ${join(dir, 'letters', 'no-such-note')}`,
    );
  });

  it('read call waves with their defaults, and refuse call keys on other waves and a call wave with variants', () => {
    const c = loadCampaign(
      campaign([
        ...base,
        'waves:',
        '  - { name: calls, channel: call, template: wealth-call-script, unassigned: 网点主任, due_within: 6d, attempts: 2 }',
        '  - { name: recall, channel: call, template: wealth-call-script, to: non-responders }',
      ]),
    );
    expect(callWaveSpec(c.waves[0]!)).toEqual({
      assignBy: 'account_manager',
      unassigned: '网点主任',
      dueWithin: '6d',
      attempts: 2,
    });
    expect(callWaveSpec(c.waves[1]!)).toEqual({
      assignBy: 'account_manager',
      unassigned: 'unassigned',
      dueWithin: '7d',
      attempts: 3,
    });
    expect(waveCallScript(c, c.waves[0]!).outcomes.map((o) => o.outcome)).toContain('appointment');
    expect(() => checkWaveTemplates(c)).not.toThrow();
    expect(() =>
      loadCampaign(campaign([...base, 'waves:', '  - { name: a, channel: sms, template: t, due_within: 6d }'])),
    ).toThrow(/:4: waves\[0\]\.due_within: only call waves take due_within; wave a is a sms wave/);
    expect(() =>
      loadCampaign(campaign([...base, 'waves:', '  - { name: a, channel: call, template: { x: s, y: t } }'])),
    ).toThrow(/:4: waves\[0\]\.template: a call wave has one call script/);
    expect(() =>
      loadCampaign(campaign([...base, 'waves:', '  - { name: a, channel: call, template: s, attempts: 0 }'])),
    ).toThrow(/:4: waves\[0\]\.attempts: Too small/);
    const missing = loadCampaign(
      campaign([...base, 'waves:', '  - { name: a, channel: call, template: no-such-script }']),
    );
    expect(() => checkWaveTemplates(missing)).toThrow(
      /:4: waves\[0\]\.template: wave a names template "no-such-script"/,
    );
    // A booking on a call is a response: a campaign with a call wave counts appointments.
    expect(() =>
      loadCampaign(
        campaign([...base, 'response_kinds: [branch_visit]', 'waves: [{ name: a, channel: call, template: s }]']),
      ),
    ).toThrow(/:3: response_kinds: wave a is a call wave, whose bookings are appointment responses; add appointment/);
    // A call script is not a letter, email or SMS template.
    const wrong = loadCampaign(
      campaign([...base, 'waves:', '  - { name: a, channel: call, template: wealth-letter }']),
    );
    expect(() => checkWaveTemplates(wrong)).toThrow(/channel/);
  });

  it('read goals and a fallback, and refuse a fallback without a top, not beyond it, or without a pace to check', () => {
    const ranked = [
      'name: wealth-2026',
      'audience: { segment: key-accounts, top: { n: 500, by: annual_spend } }',
      'waves: [{ name: a, channel: call, template: wealth-call-script }]',
    ];
    const goals = 'goals: { contact: { within: 6d }, responses: { kind: branch_visit, target: 160, by: 20d } }';
    const c = loadCampaign(campaign([...ranked, goals, 'fallback: { extend_to: 800, check_at: 10d }']));
    expect(c.goals).toEqual({ contact: { within: '6d' }, responses: { kind: 'branch_visit', target: 160, by: '20d' } });
    expect(c.fallback).toEqual({ extend_to: 800, check_at: '10d', below_pace: true });
    expect(() => loadCampaign(campaign([...ranked, goals, 'fallback: { extend_to: 500, check_at: 10d }']))).toThrow(
      /:5: fallback\.extend_to: 500 must be more than the audience's top n \(500\)/,
    );
    expect(() => loadCampaign(campaign([...ranked, 'fallback: { extend_to: 800, check_at: 10d }']))).toThrow(
      /:4: fallback\.below_pace: the pace is the responses goal's/,
    );
    expect(() =>
      loadCampaign(
        campaign([
          ...base,
          'waves: [{ name: a, channel: mail, template: t }]',
          'fallback: { extend_to: 800, check_at: 10d, below_pace: false }',
        ]),
      ),
    ).toThrow(/:4: fallback: extends a ranked audience; give the audience a top/);
    expect(() =>
      loadCampaign(campaign([...ranked, 'goals: { responses: { kind: visit, target: 160, by: 20d } }'])),
    ).toThrow(/:4: goals\.responses\.kind: Invalid option/);
    expect(() => loadCampaign(campaign([...ranked, 'goals: { contact: { within: six days } }']))).toThrow(
      /:4: goals\.contact\.within: a duration such as/,
    );
  });

  it('check the landing page booking slots at launch, naming the line and the field', () => {
    const withBooking = (booking: string) =>
      campaign([...base, 'waves: [{ name: a, channel: mail, template: t }]', `booking: ${booking}`]);
    expect(() =>
      loadCampaign(withBooking('{ slots: { times: ["09:30", "14:00"], per_slot: 4 }, within: 14d }')),
    ).not.toThrow();
    expect(() => loadCampaign(withBooking('{ slots: { times: ["9.30"], per_slot: 4 } }'))).toThrow(
      /:4: booking\.slots\.times\[0\]: /,
    );
  });

  it('measure a goal against a straight line from the start to its deadline', () => {
    const day = 86_400_000;
    expect(paceAt(160, 0, 20 * day, 10 * day)).toBe(80);
    expect(paceAt(160, 0, 20 * day, 30 * day)).toBe(160);
    expect(paceAt(160, 5 * day, 20 * day, 0)).toBe(0);
  });
});
