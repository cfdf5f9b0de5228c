// Personal landing pages (/p/<code>; a QR code on a letter adds ?src=qr) and unsubscribe
// (/u/<code>: GET shows a confirmation form, POST unsubscribes, also as RFC 8058 one-click with
// the body List-Unsubscribe=One-Click and no page at all). The code names the campaign member
// (activities/responses/member-codes.ts). Pages show the campaign's name, the member's salutation and offer.
import type { ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { salutationFor } from '../pipeline/render/helpers.ts';
import type { TrackingContext } from './context.ts';
import { normaliseCode, type CodeMember } from '../pipeline/responses/member-codes.ts';
import { escapeHtml, html, page, text } from './http.ts';
import { minuteOf, recordResponse } from '../pipeline/responses/record.ts';
import type { Sql } from '../db/connection.ts';

const offersSchema = z.record(z.string(), z.string());

/** The campaign's offers by band, from the file it was launched with (campaigns.spec.text). */
function offerOf(member: CodeMember): string | null {
  if (!member.band) return null;
  const spec = member.spec as { text?: unknown } | null;
  if (typeof spec?.text !== 'string') return null;
  try {
    const offers = offersSchema.safeParse((parseYaml(spec.text) as { offers?: unknown } | null)?.offers);
    return offers.success ? (offers.data[member.band] ?? null) : null;
  } catch {
    return null;
  }
}

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

export async function landing(
  ctx: TrackingContext,
  res: ServerResponse,
  rawCode: string,
  query: URLSearchParams,
  head: boolean,
): Promise<void> {
  const member = await ctx.codes.find(rawCode);
  if (!member) return text(res, 404, 'This page does not exist. Check the address on your letter.');
  const kind = query.get('src') === 'qr' ? 'qr_scan' : 'purl_visit';
  if (!head) {
    // A QR code is printed on letters only: its scan belongs to the member's latest mail piece.
    const [piece] =
      kind === 'qr_scan'
        ? await ctx.sql<{ id: number }[]>`
          select id from deliveries where campaign_id = ${member.campaignId} and customer_id = ${member.customerId} and channel = 'mail'
          order by coalesce(sent_at, created_at) desc, id desc limit 1`
        : [];
    const written = await recordResponse(ctx.sql, {
      campaignId: member.campaignId,
      customerId: member.customerId,
      deliveryId: piece?.id ?? null,
      kind,
      source: kind === 'qr_scan' ? 'qr' : 'purl',
      // Reloads within a minute count once.
      dedupeKey: `${kind}:${member.campaignId}:${member.customerId}:${minuteOf()}`,
    });
    ctx.log.info(
      { kind, campaignId: member.campaignId, customerId: member.customerId, recorded: written },
      'landing response',
    );
  }
  const g = await greeting(ctx, member.customerId);
  const offer = offerOf(member);
  const code = escapeHtml(normaliseCode(rawCode) ?? '');
  const paragraphs = g.chinese
    ? [`${g.salutation}，您好！`, offer ? '感谢您的关注，您的专属礼遇：' : '感谢您的关注。']
    : [`Dear ${g.salutation},`, offer ? 'Thank you for your interest. Your offer:' : 'Thank you for your interest.'];
  const extra = `${offer ? `<p class="offer">${escapeHtml(offer)}</p>\n` : ''}<p>${g.chinese ? '您的回复码：' : 'Your response code: '}<strong>${code}</strong></p>`;
  html(res, 200, page({ lang: g.lang, title: member.campaignName, paragraphs, extra }));
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

export async function unsubscribePage(
  ctx: TrackingContext,
  res: ServerResponse,
  rawCode: string,
  method: 'GET' | 'HEAD' | 'POST',
  body: string,
): Promise<void> {
  const member = await ctx.codes.find(rawCode);
  if (!member) return text(res, 404, 'This unsubscribe link is not valid.');
  const g = await greeting(ctx, member.customerId);
  if (method === 'POST') {
    // RFC 8058: the mailbox provider posts List-Unsubscribe=One-Click; the page's own form posts confirm=yes.
    const oneClick = new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click';
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
  html(
    res,
    200,
    page({
      lang: g.lang,
      title: g.chinese ? '退订邮件' : 'Unsubscribe',
      paragraphs: g.chinese
        ? [`${g.salutation}，您好！`, `确认不再接收「${member.campaignName}」等营销邮件吗？`]
        : [`Dear ${g.salutation},`, `Do you want to stop receiving marketing email such as "${member.campaignName}"?`],
      extra: `<form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit">${escapeHtml(button)}</button></form>`,
    }),
  );
}
