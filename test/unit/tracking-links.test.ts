// Links are signed as a browser would request them, and whatever trackEmailHtml signs,
// readTrackingToken accepts: a template link with a customer's value in it never turns into a 404.
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import {
  clickToken,
  isUnsubscribeFormToken,
  isUnsubscribeToken,
  normaliseLink,
  readTrackingToken,
  trackEmailHtml,
  unsubscribeFormToken,
  unsubscribeToken,
  unsubscribeTokenCode,
} from '../../pipeline/send/tracking-links.ts';
import { responseCode } from '../../pipeline/render/codes.ts';

const SECRET = 'links-secret';
const BASE = 'https://go.example.com';
const options = { baseUrl: BASE, secret: SECRET, campaign: 'spring', code: 'ABCDEFGHJK', delivery: 5, unsubscribe: '' };
// Values a customer file holds: spaces, Chinese, full-width and no-break spaces, quotes, percent
// signs, angle brackets, tabs, emoji, characters Handlebars escapes.
const VALUES = [
  '王 晓明',
  'Emma Wright',
  '李\u3000娜',
  'José\u00a0García',
  "O'Brien & Sons",
  '100% "best"',
  '<b>x</b>',
  'a\tb',
  '👍 ok',
  '`=`',
  'a+b=c?d#e',
  '%E4%B8%AD',
  '..\\..',
];

describe('tracked links with customer values in them', () => {
  const template = Handlebars.compile(
    '<a href="https://example.com/book?n={{name}}&src=邮件#{{name}}">a</a><a href="https://例子.中国/路径/{{name}}">b</a>',
    { strict: true },
  );

  it('signs the percent-encoded URL and reads every token back to it (what is signed is what is accepted)', () => {
    for (const name of VALUES) {
      const tracked = trackEmailHtml(template({ name }), options);
      expect(tracked.links, name).toHaveLength(2);
      const tokens = [...tracked.html.matchAll(/href="https:\/\/go\.example\.com\/c\/([^"]+)"/g)].map((m) => m[1]!);
      expect(tokens).toHaveLength(2);
      tokens.forEach((token, i) => {
        const event = readTrackingToken(SECRET, token);
        expect(event, `${name} link ${i}`).not.toBeNull();
        expect(event).toMatchObject({ kind: 'click', link: i, url: tracked.links[i] });
        // A Location header holds no spaces and nothing beyond ASCII.
        expect(tracked.links[i]).toMatch(/^https:\/\/[\x21-\x7e]+$/);
        expect(new URL(tracked.links[i]!).href).toBe(tracked.links[i]);
      });
    }
    const [wang] = trackEmailHtml(template({ name: '王 晓明' }), options).links;
    expect(wang).toBe(
      'https://example.com/book?n=%E7%8E%8B%20%E6%99%93%E6%98%8E&src=%E9%82%AE%E4%BB%B6#%E7%8E%8B%20%E6%99%93%E6%98%8E',
    );
    expect(trackEmailHtml(template({ name: 'x' }), options).links[1]).toBe(
      'https://xn--fsqu00a.xn--fiqs8s/%E8%B7%AF%E5%BE%84/x',
    );
  });

  it('redirects a token signed before links were normalised to the encoded form of its URL', () => {
    const old = clickToken(SECRET, options, 0, 'https://example.com/预约?n=王晓明');
    expect(readTrackingToken(SECRET, old)).toMatchObject({
      url: 'https://example.com/%E9%A2%84%E7%BA%A6?n=%E7%8E%8B%E6%99%93%E6%98%8E',
    });
  });

  it('leaves alone what is no http(s) URL, and never reads one back from a token', () => {
    for (const url of [
      'javascript:alert(1)',
      'https://',
      'http://',
      'ftp://example.com/',
      'https:example.com',
      '//example.com/',
    ])
      expect(normaliseLink(url), url).toBeNull();
    expect(trackEmailHtml('<a href="https://">x</a>', options).links).toEqual([]);
    expect(readTrackingToken(SECRET, clickToken(SECRET, options, 0, 'https://'))).toBeNull();
  });
});

describe('unsubscribe tokens', () => {
  const token = unsubscribeToken(SECRET, 'spring', 42);
  const code = responseCode(SECRET, 'spring', 42);

  it('are the response code and a signature of their own, never the bare code', () => {
    expect(token).toMatch(new RegExp(`^${code}\\.[A-Za-z0-9_-]{16}$`));
    expect(unsubscribeTokenCode(token)).toBe(code);
    expect(unsubscribeTokenCode(code)).toBeNull();
    expect(isUnsubscribeToken(SECRET, token, 'spring', 42)).toBe(true);
    expect(isUnsubscribeToken(SECRET, `${code.toLowerCase()}.${token.split('.')[1]}`, 'spring', 42)).toBe(true);
  });

  it('are refused for another member, campaign or secret, or with a changed signature', () => {
    const sig = token.split('.')[1]!;
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    expect(isUnsubscribeToken(SECRET, token, 'spring', 43)).toBe(false);
    expect(isUnsubscribeToken(SECRET, token, 'autumn', 42)).toBe(false);
    expect(isUnsubscribeToken('another', token, 'spring', 42)).toBe(false);
    expect(isUnsubscribeToken(SECRET, `${code}.${flip(sig, 0)}`, 'spring', 42)).toBe(false);
    expect(isUnsubscribeToken(SECRET, `${code}.${flip(sig, sig.length - 1)}`, 'spring', 42)).toBe(false);
    expect(isUnsubscribeToken(SECRET, code, 'spring', 42)).toBe(false);
    expect(isUnsubscribeToken(SECRET, `${code}.`, 'spring', 42)).toBe(false);
  });

  it("give the page form a token of its own, bound to the member and unlike the link's", () => {
    const form = unsubscribeFormToken(SECRET, 'spring', 42);
    expect(form).not.toBe(token.split('.')[1]);
    expect(isUnsubscribeFormToken(SECRET, form, 'spring', 42)).toBe(true);
    expect(isUnsubscribeFormToken(SECRET, form, 'spring', 43)).toBe(false);
    expect(isUnsubscribeFormToken(SECRET, token.split('.')[1]!, 'spring', 42)).toBe(false);
    expect(isUnsubscribeFormToken(SECRET, '', 'spring', 42)).toBe(false);
  });
});
