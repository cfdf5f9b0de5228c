// Every template the sample campaign uses, rendered for every band (and every variant) of its
// audience: each offer sentence reads right — a gift band's sentence names its gift once, a band
// without a gift never promises one, no sentence says the same thing twice and no slot is empty.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { loadCallScript } from '../../pipeline/calls/call-script.ts';
import { contextFor, type MemberRow } from '../../pipeline/render/context.ts';
import { memberRow } from '../helpers/member-row.ts';
import {
  SHIPPED_TEMPLATES,
  loadTemplate,
  renderEmail,
  renderSms,
  resolveTemplateDir,
} from '../../pipeline/render/templates.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/wealth-month.yaml', import.meta.url));
const campaign = loadCampaign(EXAMPLE);
const bands = campaign.audience.segment.top?.bands.map((b) => b.name) ?? [];
const variants = campaign.audience.variants.map((v) => v.name);

/** The sample campaign's templates: its waves', and every shipped wealth-* template. */
const templateNames = [
  ...new Set([
    ...campaign.waves.flatMap((w) => (typeof w.template === 'string' ? [w.template] : Object.values(w.template))),
    ...readdirSync(SHIPPED_TEMPLATES).filter((n) => n.startsWith('wealth-')),
  ]),
];

const member = (band: string, variant: string | null, manager: string | null): MemberRow =>
  memberRow({ attributes: { account_manager: manager }, rank: 1, band, variant });

/** What a reader reads: the text of an HTML part (tags, styles and comments gone). */
function readable(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>|<!--[\s\S]*?-->/g, '')
    .replace(/<br\s*\/?>|<\/(p|div|td|title)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ');
}

/** Each rendered part of a template for one member, by label. */
function renderAll(name: string, row: MemberRow): Record<string, string> {
  const ctx = contextFor(row, campaign, { secret: 's', trackingUrl: 'https://go.example.com', asOf: new Date() });
  const dir = resolveTemplateDir(name, campaign.dir);
  if (name.includes('call-script')) return { script: loadCallScript(name, campaign.dir).render(ctx, '李娜') };
  const t = loadTemplate(dir);
  if (t.channel === 'email') {
    const email = renderEmail(t, ctx);
    return { subject: email.subject, html: readable(email.html), text: email.text };
  }
  if (t.channel === 'sms') return { sms: renderSms(t, ctx).text };
  const blocks = t.pages.flatMap((p) => p.blocks.flatMap((b) => (b.compiled ? [b.compiled.render(ctx)] : [])));
  return { letter: blocks.join('\n') };
}

const sentences = (text: string) =>
  text
    .split(/[。！？!?\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
const count = (text: string, part: string) => text.split(part).length - 1;
const GIFT_WORDS = /获赠|礼品|领取|到访即送|gift|receive:/i;

describe('offer sentences of the sample campaign', () => {
  it('cover the campaign: three bands, two variants, letter, call script, email and SMS', () => {
    expect(bands).toEqual(['gift-appliance', 'gift-oil', 'asset-plan']);
    expect(variants.length).toBe(2);
    expect(templateNames).toEqual(
      expect.arrayContaining(['wealth-letter', 'wealth-call-script', 'wealth-reminder-email', 'wealth-last-call-sms']),
    );
  });

  for (const name of templateNames)
    for (const band of bands)
      it(`read right in ${name} for band ${band}`, () => {
        const offer = campaign.offers[band];
        for (const variant of variants)
          for (const manager of ['李娜', null]) {
            const parts = renderAll(name, member(band, variant, manager));
            for (const [label, text] of Object.entries(parts)) {
              const where = `${name} ${label}, band ${band}, variant ${variant}, manager ${manager}`;
              expect(text, where).not.toMatch(/null|undefined|\[object/);
              // An empty slot: "获赠。", "获赠：。", "到访即送，", "receive: .", "，，", "：，".
              expect(text, where).not.toMatch(/(获赠|赠送|即送|receive)[:：]?\s*[。，.,]|[，,：:]\s*[。，.,]|。。/);
              for (const s of sentences(text)) {
                expect(count(s, '资产配置方案'), `${where}: "${s}"`).toBeLessThanOrEqual(1);
                if (offer) expect(count(s, offer), `${where}: "${s}"`).toBeLessThanOrEqual(1);
              }
              if (!offer) expect(text, where).not.toMatch(GIFT_WORDS);
            }
            const all = Object.values(parts).join('\n');
            // A gift band hears of its gift in every template (the SMS, short, says 专属礼品).
            if (offer) expect(all.includes(offer) || /专属礼品/.test(all), `${name}, band ${band}`).toBe(true);
          }
      });
});
