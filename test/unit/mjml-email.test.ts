// Email templates written in MJML (body.mjml.hbs): compiled once per template where that means the
// same as "Handlebars first, then MJML", per message where it does not; errors name file and line.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildContext, type MemberRow } from '../../pipeline/render/context.ts';
import type { MjmlPart } from '../../pipeline/render/mjml.ts';
import { SHIPPED_TEMPLATES, loadTemplate, renderEmail, type LoadedTemplate } from '../../pipeline/render/templates.ts';
import { emailMessage } from '../../pipeline/send/email-message.ts';
import { tempDir } from '../helpers/csv.ts';
import { memberRow } from '../helpers/member-row.ts';

const row = memberRow({ attributes: { account_manager: '李娜' }, band: 'gift', variant: null });
const campaign = {
  name: '财富管理月',
  slug: 'wealth',
  owner: '招商路支行',
  offers: { gift: '电饭煲' },
  sender: { name: '滨海邮储银行 招商路支行', postal_address: '滨海市招商路 88 号' },
};
const ctxOf = (over: Partial<MemberRow> = {}) =>
  buildContext(
    { ...row, ...over },
    campaign,
    {
      responseCode: 'ABCDEFGHJK',
      purl: 'https://go.example.com/p/ABCDEFGHJK',
      unsubscribe: 'https://go.example.com/u/tok',
    },
    '2026-12-01',
  );
type Email = Extract<LoadedTemplate, { channel: 'email' }>;

const root = tempDir('mailroom-mjml-');
let n = 0;
/** An email template folder with this body.mjml.hbs (and a plain-text part). */
function template(mjml: string, extra: Record<string, string> = {}): string {
  const dir = join(root, `t${n++}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'template.yaml'), 'channel: email\nsubject: "Hello {{customer.salutation}}"\n');
  writeFileSync(join(dir, 'body.txt.hbs'), 'Hello {{customer.salutation}} {{purl}}\n');
  writeFileSync(join(dir, 'body.mjml.hbs'), mjml);
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, file), text);
  return dir;
}
const mj = (body: string) => `<mjml>\n<mj-body>\n${body}\n</mj-body>\n</mjml>\n`;

describe('MJML email templates', () => {
  it('the shipped reminder: one compile, a responsive layout, the sender on top, one call to action, a footer with name, address and unsubscribe', () => {
    const t = loadTemplate(join(SHIPPED_TEMPLATES, 'wealth-reminder-email')) as Email;
    expect((t.html as MjmlPart).mjml).toBe('once');
    const email = renderEmail(t, ctxOf());
    expect(email.html).toMatch(/<meta name="viewport"/);
    expect(email.html).toMatch(/@media only screen and \(min-width:480px\)/);
    const links = (html: string) => [...html.matchAll(/<a\s[^>]*?href="([^"]+)"/g)].map((m) => m[1]);
    expect(links(email.html)).toEqual(['https://go.example.com/p/ABCDEFGHJK', 'https://go.example.com/u/tok']);
    // As sent: the call to action goes through the tracking server, the unsubscribe link as it is.
    const sent = emailMessage(ctxOf(), email, {
      from: 'a@example.com',
      messageId: '<m@x>',
      tracking: { url: 'https://go.example.com', secret: 's', delivery: 1 },
    });
    expect(links(sent.html)).toEqual([
      expect.stringMatching(/^https:\/\/go\.example\.com\/c\//),
      'https://go.example.com/u/tok',
    ]);
    expect(sent.headers['List-Unsubscribe']).toBe('<https://go.example.com/u/tok>');
    const header = email.html.indexOf('滨海邮储银行 招商路支行');
    const cta = email.html.indexOf('预约到访时间');
    const footer = email.html.lastIndexOf('滨海市招商路 88 号');
    expect(header).toBeGreaterThan(-1);
    expect(header).toBeLessThan(cta);
    expect(cta).toBeLessThan(footer);
    expect(footer).toBeLessThan(email.html.indexOf('退订'));
    expect(email.html).toContain('到访即可获赠<strong>电饭煲</strong>');
    // The plain-text part stays: no markup, the same link, the sender and the unsubscribe link.
    expect(email.text).not.toMatch(/<[a-z]/i);
    expect(email.text).toContain('https://go.example.com/p/ABCDEFGHJK');
    expect(email.text).toContain('滨海市招商路 88 号');
    expect(email.text).toContain('退订：https://go.example.com/u/tok');
  });

  it('escape customer data in the compiled HTML', () => {
    const t = loadTemplate(join(SHIPPED_TEMPLATES, 'wealth-reminder-email')) as Email;
    const html = renderEmail(t, ctxOf({ full_name: '<b>x</b>', family_name: null })).html;
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toContain('<b>x</b>');
  });

  it('run Handlebars then MJML per message when a block holds MJML elements, with the same meaning', () => {
    const dir = template(
      mj(
        '{{#if offer}}<mj-section><mj-column><mj-text>Gift: {{offer}}</mj-text></mj-column></mj-section>{{/if}}\n<mj-section><mj-column><mj-button href="{{purl}}">Book</mj-button></mj-column></mj-section>',
      ),
    );
    const t = loadTemplate(dir) as Email;
    expect((t.html as MjmlPart).mjml).toBe('per-message');
    const withGift = renderEmail(t, ctxOf()).html;
    const without = renderEmail(t, ctxOf({ band: null })).html;
    expect(withGift).toContain('Gift: 电饭煲');
    expect(without).not.toContain('Gift:');
    // Both are whole MJML output: the section is laid out, not cut in half.
    for (const html of [withGift, without]) {
      expect(html.match(/<table/g)?.length).toBe(html.match(/<\/table>/g)?.length);
      expect(html).toContain('href="https://go.example.com/p/ABCDEFGHJK"');
    }
  });

  it('compile once when blocks stay inside text, with the same result as per message', () => {
    const dir = template(
      mj(
        '<mj-section><mj-column><mj-text>{{#if offer}}Gift: {{offer}}{{else}}Plan{{/if}}</mj-text></mj-column></mj-section>',
      ),
    );
    const t = loadTemplate(dir) as Email;
    expect((t.html as MjmlPart).mjml).toBe('once');
    expect(renderEmail(t, ctxOf()).html).toContain('Gift: 电饭煲');
    expect(renderEmail(t, ctxOf({ band: null })).html).toMatch(/>\s*Plan\s*</);
  });

  it('name the file and line of an MJML mistake', () => {
    const dir = template(mj('<mj-section>\n<mj-column>\n<mj-txt>Hello</mj-txt>\n</mj-column>\n</mj-section>'));
    expect(() => loadTemplate(dir)).toThrow(new RegExp(`${join(dir, 'body.mjml.hbs')}:5: MJML: .*mj-txt`));
  });

  it('name the file and line of a Handlebars mistake, before and after MJML', () => {
    const broken = template(
      mj('<mj-section><mj-column>\n<mj-text>{{#if offer}}Gift</mj-text>\n</mj-column></mj-section>'),
    );
    expect(() => loadTemplate(broken)).toThrow(
      new RegExp(`${join(broken, 'body.mjml.hbs')}:4: the template does not compile`),
    );
    const typo = template(
      mj('<mj-section><mj-column>\n\n<mj-text>Dear {{customer.nme}}</mj-text>\n</mj-column></mj-section>'),
    );
    const t = loadTemplate(typo) as Email;
    expect(() => renderEmail(t, ctxOf())).toThrow(
      new RegExp(`${join(typo, 'body.mjml.hbs')}:5: "customer.nme" is not in the data`),
    );
  });

  it('refuse a template with both an MJML and an HTML body', () => {
    const dir = template(mj('<mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section>'), {
      'body.html.hbs': '<p>x</p>',
    });
    expect(() => loadTemplate(dir)).toThrow(/both body.mjml.hbs and body.html.hbs/);
  });
});
