// The landing page's template: which file a customer gets, and that the shipped defaults render
// for the barest member (no owner, no offer, no account manager) in strict mode, never showing
// the campaign's internal description.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memberContext, type MemberRow } from '../../pipeline/render/context.ts';
import { SHIPPED_LANDING, landingCampaign, landingCandidates } from '../../pipeline/render/landing.ts';
import { SHIPPED_TEMPLATES } from '../../pipeline/render/templates.ts';
import { compilePart } from '../../pipeline/render/template-source.ts';
import { tempDir } from '../helpers/csv.ts';

const row = (locale: string): MemberRow => ({
  customer_id: 3,
  external_id: 'C3',
  full_name: locale.startsWith('zh') ? '李娜' : 'Emma Wright',
  family_name: locale.startsWith('zh') ? '李' : 'Wright',
  given_name: null,
  gender: 'female',
  salutation: null,
  locale,
  email: null,
  phone: null,
  address_line1: null,
  address_line2: null,
  district: null,
  city: null,
  province: null,
  postal_code: null,
  country: 'CN',
  birthday: null,
  timezone: 'Asia/Shanghai',
  attributes: {},
  rank: null,
  band: null,
  variant: null,
});

const render = (file: string, locale: string, campaign: { owner?: string | null; offer?: string }) => {
  const ctx = memberContext(
    { ...row(locale), band: campaign.offer ? 'A' : null },
    {
      name: 'Internal note',
      slug: 'spring',
      description: 'Internal note',
      owner: campaign.owner ?? null,
      offers: campaign.offer ? { A: campaign.offer } : {},
    },
    { secret: 's', trackingUrl: 'https://t.example.com', asOf: new Date('2026-12-01') },
  );
  return compilePart(file, readFileSync(file, 'utf8'), { html: true }).render({
    ...ctx,
    landing: { source: 'purl', title: null },
    booking: null,
  });
};

describe('landing templates', () => {
  it('look for the most specific language first, folder by folder, the shipped default last', () => {
    expect(landingCandidates(['/c/own', SHIPPED_LANDING], 'zh-CN')).toEqual([
      '/c/own/landing.zh-CN.html.hbs',
      '/c/own/landing.zh.html.hbs',
      '/c/own/landing.html.hbs',
      `${SHIPPED_LANDING}/landing.zh-CN.html.hbs`,
      `${SHIPPED_LANDING}/landing.zh.html.hbs`,
      `${SHIPPED_LANDING}/landing.html.hbs`,
    ]);
    expect(landingCandidates(['/c'], 'en')).toEqual(['/c/landing.en.html.hbs', '/c/landing.html.hbs']);
  });

  it("take the landing: folder first, then the waves' template folders, then the shipped default", () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'templates', 'spring-landing'), { recursive: true });
    writeFileSync(join(dir, 'templates', 'spring-landing', 'landing.html.hbs'), 'x');
    const text = [
      'name: spring',
      'title: 春季礼遇',
      'description: internal',
      'owner: 招商路支行',
      'landing: spring-landing',
      'offers: { A: 茶具 }',
      'waves:',
      '  - { name: letter, channel: mail, template: wealth-letter }',
      '  - { name: mail, channel: email, template: { a: ./mine/a, b: wealth-reminder-email } }',
    ].join('\n');
    const c = landingCampaign('spring', 'internal', { file: join(dir, 'spring.yaml'), text });
    expect(c).toMatchObject({ title: '春季礼遇', owner: '招商路支行', offers: { A: '茶具' } });
    expect(c.folders).toEqual([
      join(dir, 'templates', 'spring-landing'),
      join(SHIPPED_TEMPLATES, 'wealth-letter'),
      join(dir, 'mine', 'a'),
      join(SHIPPED_TEMPLATES, 'wealth-reminder-email'),
      SHIPPED_LANDING,
    ]);
  });

  it('fall back to the shipped default when the stored file cannot be read', () => {
    for (const spec of [
      null,
      {},
      { file: '/x.yaml', text: ': : :' },
      { file: '/x.yaml', text: 'waves: 3\nowner: [1]' },
    ])
      expect(landingCampaign('s', 'n', spec)).toMatchObject({ folders: [SHIPPED_LANDING], owner: null });
  });

  it('render the shipped pages for the barest member, in Chinese and English, with the call to action and the code', () => {
    const zh = render(join(SHIPPED_LANDING, 'landing.zh.html.hbs'), 'zh-CN', {});
    expect(zh).toContain('李女士，您好！');
    expect(zh).toContain('预约到访时间');
    expect(zh).toContain('请致电网点');
    const en = render(join(SHIPPED_LANDING, 'landing.html.hbs'), 'en-GB', {
      owner: 'Harbour Branch',
      offer: 'A <tea> set',
    });
    expect(en).toContain('Dear Ms Wright,');
    expect(en).toContain('Call Harbour Branch with a time');
    expect(en).toContain('A &lt;tea&gt; set');
    for (const page of [zh, en]) {
      expect(page).not.toContain('Internal');
      expect(page).toMatch(/<p class="code">[0-9A-Z]{10}<\/p>/);
    }
  });
});
