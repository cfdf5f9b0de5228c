// Click and open tracking for email HTML. Each http(s) link becomes <tracking>/c/<token> and an
// open pixel <tracking>/o/<token>.gif is added, so the tracking server can attribute a click or an
// open to one recipient without looking anything up first.
//
// A token is `<payload>.<sig>`, both base64url:
//   payload = JSON [1, kind, campaign slug, response code, delivery id | null, link index, target URL]
//             (kind "c" click, "o" open; an open has no link index and no URL)
//   sig     = the first 16 bytes of HMAC-SHA256(installation secret, "mailroom-track:" + payload)
// The target URL travels inside the token, so the server stays stateless: it verifies the
// signature, records the response and redirects. Only URLs Mailroom itself signed are redirected
// to, so the server is no open redirect, and nobody without the secret can make clicks or opens
// count for a customer. The prefix keeps these signatures apart from response codes (codes.ts),
// which are HMACs of other text under the same secret. Tokens hold no clock time: the same
// message renders byte for byte the same, also when a send is repeated under its Message-ID.
// A null delivery marks a proof: the server should redirect and record nothing.
//
// Links are signed as a browser would send them (normaliseLink): a template's
// `https://example.com/?n={{customer.full_name}}` renders spaces and Chinese into the href, and
// the token carries the percent-encoded URL, which is also the only form the server accepts and
// the Location it answers with.
//
// Unsubscribe links carry a token of their own, `<response code>.<sig>` with
// sig = the first 12 bytes of HMAC-SHA256(secret, "mailroom-unsubscribe:" + slug + ":" + customer id):
// the response code alone is printed on letters and in SMS, and must not unsubscribe anyone.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { responseCode } from '../render/codes.ts';

const SIG_BYTES = 16;
const UNSUBSCRIBE_SIG_BYTES = 12;

/**
 * The http(s) URL as a browser would request it (WHATWG URL: spaces, Chinese and other
 * characters percent-encoded, the host lower-cased or in punycode), or null when it is not one.
 */
export function normaliseLink(url: string): string | null {
  if (!/^https?:\/\//i.test(url)) return null;
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? u.href : null;
  } catch {
    return null;
  }
}

const httpUrl = z.string().refine((url) => normaliseLink(url) !== null);

const clickPayload = z.tuple([
  z.literal(1),
  z.literal('c'),
  z.string(),
  z.string(),
  z.number().int().nullable(),
  z.number().int().nonnegative(),
  httpUrl,
]);
const openPayload = z.tuple([z.literal(1), z.literal('o'), z.string(), z.string(), z.number().int().nullable()]);

export const trackedEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('click'),
    campaign: z.string(),
    code: z.string(),
    delivery: z.number().nullable(),
    link: z.number(),
    url: z.string(),
  }),
  z.object({ kind: z.literal('open'), campaign: z.string(), code: z.string(), delivery: z.number().nullable() }),
]);
export type TrackedEvent = z.infer<typeof trackedEventSchema>;

/** Who a message's tokens speak for: the campaign (its row's slug), the member's response code, the ledger's delivery (null in a proof). */
export interface TrackingSubject {
  campaign: string;
  code: string;
  delivery: number | null;
}

export interface TrackingOptions extends TrackingSubject {
  /** MAILROOM_TRACKING_URL. */
  baseUrl: string;
  secret: string;
  /** Left as it is: one-click unsubscribe must work without a detour, and List-Unsubscribe names it. */
  unsubscribe: string;
}

function signature(secret: string, payload: string): Buffer {
  if (!secret) throw new Error('tracking links need the installation secret (MAILROOM_SECRET)');
  return createHmac('sha256', secret).update(`mailroom-track:${payload}`).digest().subarray(0, SIG_BYTES);
}

function sign(secret: string, fields: unknown[]): string {
  const payload = Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url');
  return `${payload}.${signature(secret, payload).toString('base64url')}`;
}

export function clickToken(secret: string, s: TrackingSubject, link: number, url: string): string {
  return sign(secret, [1, 'c', s.campaign, s.code, s.delivery, link, url]);
}

export function openToken(secret: string, s: TrackingSubject): string {
  return sign(secret, [1, 'o', s.campaign, s.code, s.delivery]);
}

/**
 * What a token from /c/<token> or /o/<token>.gif says, or null when it was not signed with this
 * secret (forged, altered, cut short) or is not a token at all.
 */
export function readTrackingToken(secret: string, token: string): TrackedEvent | null {
  const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)(?:\.gif)?$/.exec(token);
  if (!m) return null;
  const given = Buffer.from(m[2]!, 'base64url');
  // Only the one spelling of the signature: base64url has spare bits in its last character.
  if (
    given.length !== SIG_BYTES ||
    given.toString('base64url') !== m[2] ||
    !timingSafeEqual(given, signature(secret, m[1]!))
  )
    return null;
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const click = clickPayload.safeParse(fields);
  if (click.success) {
    const [, , campaign, code, delivery, link, url] = click.data;
    // Tokens signed before links were normalised hold the URL as written: redirect to its encoded form.
    return { kind: 'click', campaign, code, delivery, link, url: normaliseLink(url)! };
  }
  const open = openPayload.safeParse(fields);
  if (open.success) {
    const [, , campaign, code, delivery] = open.data;
    return { kind: 'open', campaign, code, delivery };
  }
  return null;
}

// Handlebars escapes & < > " ' ` = in {{…}}, so an href holds entities; the token must carry the
// URL the browser would have followed, not its HTML spelling.
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeAttribute(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const n = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}

// A start tag of a link (<a>, <area>), quoted attribute values allowed to hold ">".
const LINK_TAG = /<(a|area)(\s(?:[^>"']|"[^"]*"|'[^']*')*)?>/gi;
// One attribute: name, then an optional double-quoted, single-quoted or bare value.
const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g;

function rewriteHref(attributes: string, rewrite: (url: string) => string | null): string {
  ATTRIBUTE.lastIndex = 0;
  for (let m = ATTRIBUTE.exec(attributes); m; m = ATTRIBUTE.exec(attributes)) {
    // The first href counts, as in a browser.
    if (m[1]!.toLowerCase() !== 'href') continue;
    const raw = m[2];
    if (raw === undefined) return attributes;
    const quoted = raw.startsWith('"') || raw.startsWith("'");
    // Browsers drop surrounding spaces and any tab or newline inside a URL.
    const url = decodeAttribute(quoted ? raw.slice(1, -1) : raw)
      .replace(/[\t\n\r]/g, '')
      .trim();
    const tracked = rewrite(url);
    if (tracked === null) return attributes;
    const at = m.index + m[0].length - raw.length;
    return `${attributes.slice(0, at)}"${tracked}"${attributes.slice(at + raw.length)}`;
  }
  return attributes;
}

/**
 * The HTML with every http(s) link but the unsubscribe link sent through the tracking server,
 * and an open pixel before </body>. `links` are the target URLs by link index.
 */
export function trackEmailHtml(html: string, opts: TrackingOptions): { html: string; links: string[] } {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const links: string[] = [];
  const rewritten = html.replace(LINK_TAG, (tag, name: string, attributes: string | undefined) => {
    if (!attributes) return tag;
    const next = rewriteHref(attributes, (url) => {
      const link = normaliseLink(url);
      if (link === null || url === opts.unsubscribe || link === opts.unsubscribe) return null;
      links.push(link);
      return `${base}/c/${clickToken(opts.secret, opts, links.length - 1, link)}`;
    });
    return next === attributes ? tag : `<${name}${next}>`;
  });
  const pixel = `<img src="${base}/o/${openToken(opts.secret, opts)}.gif" width="1" height="1" alt="">`;
  const end = rewritten.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
  return {
    html: end < 0 ? `${rewritten}${pixel}` : `${rewritten.slice(0, end)}${pixel}${rewritten.slice(end)}`,
    links,
  };
}

function unsubscribeSignature(secret: string, campaign: string, customerId: number, purpose: string): Buffer {
  if (!secret) throw new Error('unsubscribe links need the installation secret (MAILROOM_SECRET)');
  return createHmac('sha256', secret)
    .update(`${purpose}:${campaign}:${customerId}`)
    .digest()
    .subarray(0, UNSUBSCRIBE_SIG_BYTES);
}

/** The token of a member's unsubscribe link: `<response code>.<sig>`, the same on every render. */
export function unsubscribeToken(secret: string, campaign: string, customerId: number): string {
  const sig = unsubscribeSignature(secret, campaign, customerId, 'mailroom-unsubscribe').toString('base64url');
  return `${responseCode(secret, campaign, customerId)}.${sig}`;
}

/** The member's unsubscribe link on the tracking server. */
export function unsubscribeUrl(trackingUrl: string, secret: string, campaign: string, customerId: number): string {
  return `${trackingUrl.replace(/\/+$/, '')}/u/${unsubscribeToken(secret, campaign, customerId)}`;
}

/** The response code an unsubscribe token names (to find the member by), or null when it is no such token. */
export function unsubscribeTokenCode(token: string): string | null {
  const m = /^([0-9A-Za-z]{10})\.([A-Za-z0-9_-]{16})$/.exec(token);
  return m ? m[1]!.toUpperCase() : null;
}

/** Whether `token` is the unsubscribe token of this member (the signature compared in constant time). */
export function isUnsubscribeToken(secret: string, token: string, campaign: string, customerId: number): boolean {
  const [code = '', sig = ''] = token.split('.');
  const given = Buffer.from(sig, 'base64url');
  const want = unsubscribeSignature(secret, campaign, customerId, 'mailroom-unsubscribe');
  return (
    code.toUpperCase() === responseCode(secret, campaign, customerId) &&
    given.length === want.length &&
    given.toString('base64url') === sig &&
    timingSafeEqual(given, want)
  );
}

/**
 * The token the unsubscribe page's own form posts back: only the page carries it, so a POST from
 * another site (which cannot read the page) cannot unsubscribe anyone.
 */
export function unsubscribeFormToken(secret: string, campaign: string, customerId: number): string {
  return unsubscribeSignature(secret, campaign, customerId, 'mailroom-unsubscribe-form').toString('base64url');
}

/** Whether a posted form token is this member's (compared in constant time). */
export function isUnsubscribeFormToken(secret: string, given: string, campaign: string, customerId: number): boolean {
  const want = unsubscribeSignature(secret, campaign, customerId, 'mailroom-unsubscribe-form');
  const got = Buffer.from(given, 'base64url');
  return got.length === want.length && got.toString('base64url') === given && timingSafeEqual(got, want);
}
