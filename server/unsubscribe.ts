// Unsubscribe: /u/<token>, the link in an email's footer and its List-Unsubscribe header. The
// token is the member's response code and a signature of its own (pipeline/send/tracking-links.ts):
// the bare response code, printed on letters and in SMS, unsubscribes nobody.
//   GET (and HEAD) shows a confirmation page and changes nothing: mail scanners follow links.
//   POST unsubscribes in two cases only: RFC 8058 one-click (a form body holding
//   List-Unsubscribe=One-Click, posted by the mailbox provider), or the page's own form, which
//   carries a token only the page holds. Any other POST (another site's form, a stray body) is
//   refused with 403 and writes nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { salutationFor } from '../pipeline/render/helpers.ts';
import { landingCampaign } from '../pipeline/render/landing.ts';
import type { TrackingContext } from './context.ts';
import { escapeHtml, html, page, readBody, text } from './http.ts';
import { recordResponse } from '../pipeline/responses/record.ts';
import {
  isUnsubscribeFormToken,
  isUnsubscribeToken,
  unsubscribeFormToken,
  unsubscribeTokenCode,
} from '../pipeline/send/tracking-links.ts';
import type { CodeMember } from '../pipeline/responses/member-codes.ts';
import type { Sql } from '../db/connection.ts';

async function greeting(
  ctx: TrackingContext,
  customerId: number,
): Promise<{ salutation: string; chinese: boolean; lang: string }> {
  const [c] = await ctx.sql<
    { salutation: string | null; family_name: string | null; full_name: string; gender: string; locale: string }[]
  >`
    select salutation, family_name, full_name, gender, locale from customers where id = ${customerId}`;
  const locale = c?.locale ?? 'zh-CN';
  return { salutation: c ? salutationFor(c) : '', chinese: locale.startsWith('zh'), lang: locale };
}

/**
 * The fields of a form body: application/x-www-form-urlencoded or multipart/form-data, the two
 * encodings RFC 8058 allows. Anything else (text/plain, which another site's form can send, JSON,
 * no content type) is no form: null.
 */
export function postedForm(contentType: string | undefined, body: string): Map<string, string> | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return new Map(new URLSearchParams(body));
  if (type !== 'multipart/form-data') return null;
  const boundary = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return null;
  const fields = new Map<string, string>();
  for (const part of body.split(`--${marker}`).slice(1)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(part.slice(0, split));
    if (name && !fields.has(name[1]!)) fields.set(name[1]!, part.slice(split + 4).replace(/\r\n$/, ''));
  }
  return fields;
}

async function unsubscribe(ctx: TrackingContext, member: CodeMember, oneClick: boolean): Promise<void> {
  const source = `unsubscribe:campaign:${member.campaignId}`;
  const result = await ctx.sql.begin(async (tx) => {
    await tx`
      insert into suppressions (channel, customer_id, reason, source) values ('email', ${member.customerId}, 'unsubscribed', ${source})
      on conflict on constraint suppressions_key do nothing`;
    // The mailbox too: the same address on another customer record is the same person's inbox.
    await tx`
      insert into suppressions (channel, address, reason, source)
      select 'email', lower(email), 'unsubscribed', ${source} from customers where id = ${member.customerId} and email is not null
      on conflict on constraint suppressions_key do nothing`;
    const [email] = await tx<{ id: number }[]>`
      select id from deliveries where campaign_id = ${member.campaignId} and customer_id = ${member.customerId} and channel = 'email' and status = 'sent'
      order by sent_at desc, id desc limit 1`;
    return recordResponse(tx as unknown as Sql, {
      campaignId: member.campaignId,
      customerId: member.customerId,
      deliveryId: email?.id ?? null,
      kind: 'unsubscribe',
      source: oneClick ? 'list-unsubscribe' : 'unsubscribe-page',
      dedupeKey: `unsubscribe:${member.campaignId}:${member.customerId}`,
    });
  });
  ctx.log.info(
    { kind: 'unsubscribe', campaignId: member.campaignId, customerId: member.customerId, oneClick, recorded: result },
    'unsubscribe',
  );
}

/** The member an unsubscribe token names, or null when the token is not one this installation signed. */
async function memberOf(ctx: TrackingContext, token: string): Promise<CodeMember | null> {
  const code = unsubscribeTokenCode(token);
  if (!code) return null;
  const member = await ctx.codes.find(code);
  return member && isUnsubscribeToken(ctx.secret, token, member.slug, member.customerId) ? member : null;
}

export async function unsubscribePage(
  ctx: TrackingContext,
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
): Promise<void> {
  const method = req.method ?? 'GET';
  // Read the body first: an answer before the body is read would reset a client still sending it.
  const body = method === 'POST' ? await readBody(req) : '';
  const member = await memberOf(ctx, token);
  if (!member) return text(res, 404, 'This unsubscribe link is not valid. Use the link in your latest email.');
  const g = await greeting(ctx, member.customerId);
  if (method === 'POST') {
    const form = postedForm(req.headers['content-type'], body);
    // RFC 8058: the mailbox provider posts List-Unsubscribe=One-Click; the page's own form posts its token.
    const oneClick = form?.get('List-Unsubscribe') === 'One-Click';
    const fromPage = isUnsubscribeFormToken(ctx.secret, form?.get('token') ?? '', member.slug, member.customerId);
    if (!oneClick && !fromPage) {
      ctx.log.warn(
        { campaignId: member.campaignId },
        'refused an unsubscribe POST that is neither one-click nor the page form',
      );
      return text(
        res,
        403,
        g.chinese
          ? '无法办理退订：请打开邮件中的退订链接，在页面上点击“确认退订”。'
          : 'This request cannot unsubscribe: open the unsubscribe link from your email and use its button.',
      );
    }
    await unsubscribe(ctx, member, oneClick);
    return html(
      res,
      200,
      page({
        lang: g.lang,
        title: g.chinese ? '已退订' : 'Unsubscribed',
        paragraphs: [
          g.chinese
            ? '您已退订，今后不会再收到我们的营销邮件。'
            : 'You are unsubscribed: you will get no more marketing email from us.',
        ],
      }),
    );
  }
  const button = g.chinese ? '确认退订' : 'Unsubscribe';
  // The sender (the campaign file's owner:), never the campaign's internal description.
  const owner = landingCampaign(member.slug, member.campaignName, member.spec).owner;
  const formToken = unsubscribeFormToken(ctx.secret, member.slug, member.customerId);
  html(
    res,
    200,
    page({
      lang: g.lang,
      title: g.chinese ? '退订邮件' : 'Unsubscribe',
      paragraphs: g.chinese
        ? [`${g.salutation}，您好！`, `确认不再接收${owner ? `「${owner}」的` : '我们的'}营销邮件吗？`]
        : [`Dear ${g.salutation},`, `Do you want to stop receiving marketing email from ${owner ?? 'us'}?`],
      extra: `<form method="post"><input type="hidden" name="token" value="${escapeHtml(formToken)}"><button type="submit">${escapeHtml(button)}</button></form>`,
    }),
  );
}
