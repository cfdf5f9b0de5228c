// What the pages people work in share (the account manager's /calls page and the branch staff's
// /visit page): one stylesheet made for a phone's screen and a keyboard, the page frame, the
// answer to a link that is refused, and the campaign a signed link names.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Sql } from '../db/connection.ts';
import { escapeHtml, html, readBody, text } from './http.ts';
import { storedCampaign, type StoredCampaign } from '../pipeline/calls/stored-campaign.ts';

const STYLE = `
  *{box-sizing:border-box} body{font:16px/1.5 system-ui,"Noto Sans SC",sans-serif;margin:0;padding:12px;color:#1a1a1a;background:#f6f6f4}
  main{max-width:40rem;margin:0 auto} h1{font-size:1.25rem;margin:.25rem 0} h2{font-size:1.1rem;margin:0 0 .25rem}
  section{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px;margin:12px 0}
  .meta{color:#555;font-size:.9rem} .notice{background:#e8f5e9;border-color:#9ccc9c} .error{background:#fdecea;border-color:#e6a19a}
  fieldset{border:0;padding:0;margin:.5rem 0} legend{font-weight:600}
  label{display:block;padding:.35rem 0} input[type=radio]{width:1.2rem;height:1.2rem;vertical-align:middle;margin-right:.4rem}
  input[type=datetime-local],input[type=date],input[type=text],textarea{width:100%;font:inherit;padding:.5rem;border:1px solid #999;border-radius:6px}
  button{font:inherit;width:100%;padding:.7rem;margin-top:.5rem;border:0;border-radius:6px;background:#005a3c;color:#fff}
  :focus-visible{outline:3px solid #f0a500;outline-offset:2px} a{color:#005a3c} details{margin:.5rem 0}
  dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem .8rem;margin:.5rem 0} dt{color:#555} dd{margin:0;overflow-wrap:anywhere}
  .script{white-space:pre-wrap;background:#fafafa;padding:.5rem;border-left:3px solid #005a3c}`;

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

/** A link that is altered (403), expired (410) or names no campaign (404): nothing is read or written. */
export function refusal(res: ServerResponse, status: number, message: string, howToGetOne: string): void {
  html(res, status, layout('链接无效', `<h1>${escapeHtml(message)}</h1><p>${escapeHtml(howToGetOne)}</p>`));
}

/** The campaign a signed link names, or null when it is gone. */
export async function campaignById(sql: Sql, campaignId: number): Promise<StoredCampaign | null> {
  const [row] = await sql<{ slug: string }[]>`select slug from campaigns where id = ${campaignId}`;
  return row ? storedCampaign(sql, row.slug) : null;
}

/**
 * The link of a page checked before anything is read: its value, or null when the answer was sent
 * (405 for another method; 403 altered, 410 expired, with a posted body read and dropped).
 */
export async function openLink<L>(
  req: IncomingMessage,
  res: ServerResponse,
  opts: { log: Logger; route: string; howToGetOne: string },
  check: { ok: true; link: L } | { ok: false; reason: 'forged' | 'expired' },
): Promise<L | null> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    res.setHeader('allow', 'GET, HEAD, POST');
    text(res, 405, 'Use GET or POST.');
    return null;
  }
  if (check.ok) return check.link;
  opts.log.warn({ route: opts.route, reason: check.reason }, 'refused a page link');
  if (method === 'POST') await readBody(req).catch(() => '');
  const expired = check.reason === 'expired';
  refusal(res, expired ? 410 : 403, expired ? '链接已过期' : '链接无效', opts.howToGetOne);
  return null;
}
