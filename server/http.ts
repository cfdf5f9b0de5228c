// Small HTTP helpers for the tracking server: reading a form body with a size limit, and the
// answers it gives (plain text, HTML pages, the open pixel, redirects, TwiML).
import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLarge extends Error {}

const MAX_BODY = 64 * 1024;

/**
 * The body as text, up to `limit` bytes. Beyond it: BodyTooLarge, and the rest of the body is
 * read and dropped, not refused: destroying the request would reset the connection before the
 * 413 is written, and the client would see a reset instead of the answer. The server's request
 * timeout bounds how long a client can keep sending.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(new BodyTooLarge());
      return;
    }
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Form fields of an application/x-www-form-urlencoded body (Twilio's webhooks, RFC 8058 one-click). */
export function formFields(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

const NO_CACHE = {
  'cache-control': 'no-store, no-cache, must-revalidate, max-age=0',
  pragma: 'no-cache',
  expires: '0',
};

export function text(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    ...NO_CACHE,
    'x-content-type-options': 'nosniff',
  });
  res.end(`${message}\n`);
}

export function html(res: ServerResponse, status: number, page: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    ...NO_CACHE,
    'x-content-type-options': 'nosniff',
    // The URL holds the member's code: never pass it on to another site.
    'referrer-policy': 'no-referrer',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  });
  res.end(page);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, ...NO_CACHE, 'referrer-policy': 'no-referrer' });
  res.end();
}

// The smallest transparent GIF: 1×1, one transparent colour.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export function pixel(res: ServerResponse, head = false): void {
  res.writeHead(200, { 'content-type': 'image/gif', 'content-length': PIXEL.length, ...NO_CACHE });
  res.end(head ? undefined : PIXEL);
}

export function twiml(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
  res.end('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
}

// A browser says where a post comes from: Sec-Fetch-Site (same-origin), or Origin. The page's
// no-referrer policy makes Chromium send "Origin: null" on its own forms, so null alone proves
// nothing either way; the form token is what a cross-site form cannot have.
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A plain page: the title and paragraphs are text (escaped here); `extra` is trusted HTML. */
export function page(opts: { lang: string; title: string; paragraphs: string[]; extra?: string }): string {
  const body = opts.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  return `<!doctype html>
<html lang="${escapeHtml(opts.lang)}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(opts.title)}</title>
<style>body{font-family:system-ui,"PingFang SC","Noto Sans SC",sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.6;color:#222}
h1{font-size:1.4rem}.offer{font-size:1.2rem;font-weight:600;padding:.8rem 1rem;background:#f4f1ea;border-radius:.4rem}button{font-size:1rem;padding:.5rem 1.2rem}</style></head>
<body><h1>${escapeHtml(opts.title)}</h1>
${body}
${opts.extra ?? ''}
</body></html>
`;
}
