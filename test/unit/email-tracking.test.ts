import { describe, expect, it } from 'vitest';
import { memberContext, type MemberRow } from '../../pipeline/render/context.ts';
import { composeEmail } from '../../pipeline/render/proof.ts';
import { loadTemplate, renderEmail, resolveTemplateDir } from '../../pipeline/render/templates.ts';
import { emailMessage, emailMessageId } from '../../pipeline/send/email-message.ts';
import {
  clickToken,
  decodeAttribute,
  openToken,
  readTrackingToken,
  trackEmailHtml,
  unsubscribeToken,
} from '../../pipeline/send/tracking-links.ts';

const SECRET = 'installation-secret';
const BASE = 'https://go.example.com';
const row: MemberRow = {
  customer_id: 7,
  external_id: 'C7',
  full_name: '王晓明',
  family_name: '王',
  given_name: '晓明',
  gender: 'male',
  salutation: null,
  locale: 'zh-CN',
  email: 'w@example.com',
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
  attributes: { account_manager: '李经理' },
  rank: 1,
  band: 'A',
  variant: null,
};
const ctx = memberContext(
  row,
  { name: '财富管理月', slug: 'wealth', offers: { A: '电饭煲' } },
  { secret: SECRET, trackingUrl: `${BASE}/`, asOf: new Date('2026-12-01') },
);
const template = loadTemplate(resolveTemplateDir('wealth-reminder-email', '.'));
if (template.channel !== 'email') throw new Error('expected an email template');
const rendered = renderEmail(template, ctx);
const envelope = {
  from: 'Mailroom <m@example.com>',
  messageId: emailMessageId(42, 'wealth'),
  tracking: { url: BASE, secret: SECRET, delivery: 42 },
};
const options = {
  baseUrl: BASE,
  secret: SECRET,
  campaign: 'wealth',
  code: ctx.response_code,
  delivery: 42,
  unsubscribe: ctx.links.unsubscribe,
};

// The unsubscribe link carries its own signed token, not the bare response code printed on letters.
const unsubscribeLink = `${BASE}/u/${unsubscribeToken(SECRET, 'wealth', 7)}`;
const hrefs = (html: string) => [...html.matchAll(/<a\b[^>]*?\shref="([^"]*)"/gi)].map((m) => m[1]!);
const tokenOf = (url: string, kind: 'c' | 'o') => new RegExp(`^${BASE}/${kind}/([^/]+)$`).exec(url)?.[1] ?? '';

describe('tracked email', () => {
  const message = emailMessage(ctx, rendered, envelope);

  it('sends the call to action through the tracking server, signed for this member, delivery and link', () => {
    const [cta, unsubscribe] = hrefs(message.html);
    expect(cta).toMatch(new RegExp(`^${BASE}/c/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{22}$`));
    expect(readTrackingToken(SECRET, tokenOf(cta!, 'c'))).toEqual({
      kind: 'click',
      campaign: 'wealth',
      code: ctx.response_code,
      delivery: 42,
      link: 0,
      url: ctx.purl,
    });
    // One-click unsubscribe goes straight to its page, the same URL List-Unsubscribe names.
    expect(unsubscribe).toBe(unsubscribeLink);
    expect(message.headers['List-Unsubscribe']).toBe(`<${unsubscribe}>`);
    expect(unsubscribe).not.toBe(`${BASE}/u/${ctx.response_code}`);
    expect(message.html).not.toContain(`href="${ctx.purl}"`);
  });

  it('adds one open pixel just before </body> whose token names the member and delivery', () => {
    const pixels = [...message.html.matchAll(/<img src="([^"]+)" width="1" height="1" alt="">/g)];
    expect(pixels).toHaveLength(1);
    expect(message.html).toMatch(/<img src="[^"]+\.gif" width="1" height="1" alt=""><\/body>/);
    const token = /\/o\/([^/]+)$/.exec(pixels[0]![1]!)![1]!;
    expect(token.endsWith('.gif')).toBe(true);
    expect(readTrackingToken(SECRET, token)).toEqual({
      kind: 'open',
      campaign: 'wealth',
      code: ctx.response_code,
      delivery: 42,
    });
  });

  it('keeps the text part as rendered: readable plain links, no tracking tokens', () => {
    expect(message.text).toBe(rendered.text.replace(ctx.links.unsubscribe, unsubscribeLink));
    expect(message.text).toContain(`预约到访时间：${ctx.purl}`);
    expect(message.text).toContain(`退订：${unsubscribeLink}`);
    expect(message.text).not.toContain('/c/');
    expect(message.text).not.toContain('/o/');
  });

  it('leaves the Message-ID and the one-click unsubscribe headers as they were', async () => {
    expect(message.messageId).toBe('<d42.wealth@mailroom>');
    expect(message.headers).toEqual({
      'List-Unsubscribe': `<${unsubscribeLink}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    const raw = (await composeEmail(ctx, rendered, { ...envelope, date: new Date('2026-12-01T00:00:00Z') })).toString(
      'utf8',
    );
    expect(raw).toMatch(/^Message-ID: <d42\.wealth@mailroom>\r$/m);
    expect(raw).toMatch(new RegExp(`^List-Unsubscribe: <${unsubscribeLink}>\\r$`, 'm'));
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    expect(raw).toMatch(/Content-Type: multipart\/alternative/);
  });

  it('renders the same message byte for byte every time, so a resend under its Message-ID is the same message', async () => {
    expect(emailMessage(ctx, rendered, envelope).html).toBe(message.html);
    const date = new Date('2026-12-01T00:00:00Z');
    const a = await composeEmail(ctx, rendered, { ...envelope, date });
    const b = await composeEmail(ctx, rendered, { ...envelope, date });
    expect(a.toString('utf8').replace(/boundary="?[^"\r\n]+"?|--[-_a-zA-Z0-9]+/g, '')).toBe(
      b.toString('utf8').replace(/boundary="?[^"\r\n]+"?|--[-_a-zA-Z0-9]+/g, ''),
    );
  });

  it('marks proof links with no delivery, so a click on a proof is not counted for the customer', () => {
    const proof = emailMessage(ctx, rendered, { ...envelope, tracking: { ...envelope.tracking, delivery: null } });
    expect(readTrackingToken(SECRET, tokenOf(hrefs(proof.html)[0]!, 'c'))).toMatchObject({
      kind: 'click',
      delivery: null,
      url: ctx.purl,
    });
  });
});

describe('rewriting links in HTML', () => {
  const html = [
    '<html><head><link href="https://cdn.example.com/a.css" rel="stylesheet"></head><BODY>',
    '<a title="1 > 0" href="https://shop.example.com/?a=1&amp;b=2&#x3D;3">shop</a>',
    "<A HREF='HTTPS://Example.com/Upper'>upper</A>",
    '<a href=https://bare.example.com/x?y=1>bare</a>',
    '<a href="  https://spaced.example.com/\n">spaced</a>',
    '<a href="mailto:help@example.com">mail</a> <a href="tel:+8610123">call</a> <a href="#top">top</a> <a href="/relative">rel</a>',
    '<a data-href="https://data.example.com" href="https://second.example.com">data-href is not href</a>',
    '<map><area shape="rect" coords="0,0,1,1" href="https://area.example.com/"></map>',
    `<a href="${options.unsubscribe}">unsubscribe</a> <a name="anchor">no href</a> <a href>empty</a>`,
    '</BODY></html>',
  ].join('\n');
  const tracked = trackEmailHtml(html, options);

  it('tracks every http(s) link of <a> and <area>, in document order, by the URL a browser would follow', () => {
    expect(tracked.links).toEqual([
      'https://shop.example.com/?a=1&b=2=3',
      'https://example.com/Upper',
      'https://bare.example.com/x?y=1',
      'https://spaced.example.com/',
      'https://second.example.com/',
      'https://area.example.com/',
    ]);
    const clicks = [...tracked.html.matchAll(new RegExp(`href="${BASE}/c/([^"]+)"`, 'gi'))].map((m) =>
      readTrackingToken(SECRET, m[1]!),
    );
    expect(clicks.map((c) => (c?.kind === 'click' ? [c.link, c.url] : null))).toEqual(
      tracked.links.map((url, i) => [i, url]),
    );
    expect(tracked.html).toContain('<a title="1 > 0" href="https://go.example.com/c/');
    expect(tracked.html).toContain('<A HREF="https://go.example.com/c/');
  });

  it('leaves mailto:, tel:, anchors, relative links, stylesheets, data-href and the unsubscribe link alone', () => {
    for (const kept of [
      '<link href="https://cdn.example.com/a.css"',
      'href="mailto:help@example.com"',
      'href="tel:+8610123"',
      'href="#top"',
      'href="/relative"',
      'data-href="https://data.example.com"',
      `<a href="${options.unsubscribe}">`,
      '<a name="anchor">',
      '<a href>',
    ]) {
      expect(tracked.html).toContain(kept);
    }
    expect(tracked.html).toMatch(/\.gif" width="1" height="1" alt=""><\/BODY>/);
  });

  it('appends the pixel when the HTML has no </body>, and leaves HTML without links unchanged but for it', () => {
    const plain = trackEmailHtml('<p>hello</p>', options);
    expect(plain.links).toEqual([]);
    expect(plain.html).toMatch(
      new RegExp(`^<p>hello</p><img src="${BASE}/o/[^"]+\\.gif" width="1" height="1" alt="">$`),
    );
  });

  it('decodes the entities Handlebars writes into attributes', () => {
    expect(decodeAttribute('a&amp;b&#x3D;c&#61;d&quot;&#39;&#x60;&lt;&gt;&nbsp;&#0;')).toBe('a&b=c=d"\'`<>&nbsp;&#0;');
  });

  it('refuses to sign without a secret', () => {
    expect(() => trackEmailHtml(html, { ...options, secret: '' })).toThrow(/MAILROOM_SECRET/);
  });
});

describe('tracking tokens', () => {
  const subject = { campaign: 'wealth', code: 'ABCDEFGHJK', delivery: 9 };
  const click = clickToken(SECRET, subject, 3, 'https://shop.example.com/offer?x=1');
  const open = openToken(SECRET, subject);

  it("decode to what was signed, with or without the pixel's .gif", () => {
    expect(readTrackingToken(SECRET, click)).toEqual({
      kind: 'click',
      ...subject,
      link: 3,
      url: 'https://shop.example.com/offer?x=1',
    });
    expect(readTrackingToken(SECRET, open)).toEqual({ kind: 'open', ...subject });
    expect(readTrackingToken(SECRET, `${open}.gif`)).toEqual({ kind: 'open', ...subject });
  });

  it('are refused when altered, re-signed with another secret, spliced or malformed', () => {
    const [payload, sig] = click.split('.') as [string, string];
    const forgedPayload = Buffer.from(
      JSON.stringify([1, 'c', 'wealth', 'ABCDEFGHJK', 9, 3, 'https://evil.example.net/']),
    ).toString('base64url');
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    expect(readTrackingToken(SECRET, `${forgedPayload}.${sig}`)).toBeNull();
    expect(readTrackingToken(SECRET, `${flip(payload, 5)}.${sig}`)).toBeNull();
    expect(readTrackingToken(SECRET, `${payload}.${flip(sig, 0)}`)).toBeNull();
    // The last character of a 16-byte base64url value has spare bits: another spelling is refused too.
    expect(readTrackingToken(SECRET, `${payload}.${flip(sig, sig.length - 1)}`)).toBeNull();
    expect(readTrackingToken(SECRET, `${payload}.${open.split('.')[1]}`)).toBeNull();
    expect(readTrackingToken(SECRET, `${payload}.${sig.slice(0, -2)}`)).toBeNull();
    expect(readTrackingToken('another-secret', click)).toBeNull();
    expect(readTrackingToken(SECRET, clickToken('another-secret', subject, 3, 'https://shop.example.com/'))).toBeNull();
    for (const junk of ['', '.', 'abc', 'a.b.c', `${payload}`, `${click}/x`, '../../etc/passwd'])
      expect(readTrackingToken(SECRET, junk)).toBeNull();
  });

  it('never decode to a redirect that is not http(s), even when signed', () => {
    expect(readTrackingToken(SECRET, clickToken(SECRET, subject, 0, 'javascript:alert(1)'))).toBeNull();
  });
});
