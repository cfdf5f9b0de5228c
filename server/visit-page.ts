// The branch staff's page: /visit/<signed link naming the campaign and the branch>. Staff look a
// customer up by the response code on the letter (typed, or scanned: a scanner types the code of
// the barcode, or the QR code's address, and Enter into the focused box), the phone number or the
// customer id; the page shows who the customer is, their band, the gift they are entitled to with
// the stock left, and their online booking; a button records the visit with the gift and the
// staff member's name (registerVisit: once per customer per campaign). The link is checked before
// anything is read (altered or expired: refused, nothing written); every post carries the form
// token of this link (and of the customer it records) and must come from this site. Plain forms,
// no script: usable on a phone and by keyboard alone (scan, Enter, Enter).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TrackingContext } from './context.ts';
import { escapeHtml, formFields, html, readBody, sameOrigin, text } from './http.ts';
import { campaignById, layout, openLink, refusal } from './pages.ts';
import {
  checkBranchLink,
  checkVisitFormToken,
  visitFormToken,
  type BranchLink,
} from '../pipeline/visits/branch-link.ts';
import {
  giftStock,
  lookupVisit,
  registerVisit,
  type VisitLookup,
  type VisitResult,
} from '../pipeline/visits/branch-visit.ts';
import { normaliseCode } from '../pipeline/responses/member-codes.ts';
import { bookedAtText, bookingOf, bookingSettingsOf } from '../pipeline/calls/booking.ts';
import type { StoredCampaign } from '../pipeline/calls/stored-campaign.ts';

const HOW_TO_GET_ONE = '请向网点主任索取新的链接（mailroom visit link）。';

/** What staff typed or scanned, as the lookups to try in order: a QR code's address gives its code. */
export function lookupsOf(raw: string): VisitLookup[] {
  const value = raw.trim();
  if (!value) return [];
  const fromUrl = /\/p\/([^/?#\s]+)/.exec(value)?.[1];
  if (fromUrl) return [{ code: fromUrl }];
  const out: VisitLookup[] = [];
  if (normaliseCode(value)) out.push({ code: value });
  if (/^\+?[\d\s-]{7,20}$/.test(value)) out.push({ phone: value });
  out.push({ customer: value });
  return out;
}

async function lookUp(ctx: TrackingContext, campaign: StoredCampaign, raw: string): Promise<VisitResult> {
  let last: VisitResult = { status: 'not_found', message: '请输入回执编码、手机号或客户编号。' };
  for (const by of lookupsOf(raw)) {
    last = await lookupVisit(ctx.sql, campaign, { by, secret: ctx.secret });
    if (last.status !== 'not_found') return last;
  }
  return last.status === 'not_found' ? { status: 'not_found', message: `未找到「${raw.trim()}」对应的客户。` } : last;
}

interface View {
  link: BranchLink;
  token: string;
  campaign: StoredCampaign;
  staff: string;
  /** A message above the customer: role=status (done) or role=alert (refused). */
  notice?: { kind: 'status' | 'alert'; text: string };
  /** The customer looked up or just recorded. */
  result?: VisitResult;
  /** Offer the record form (after a lookup, or a refusal that can be put right). */
  recordable?: boolean;
}

const giftText = (gift: { offer: string; choice: string | null } | null, campaign: StoredCampaign) =>
  gift ? `${campaign.offers.get(gift.offer)?.text ?? gift.offer}${gift.choice ? `（${gift.choice}）` : ''}` : '无';

async function customerCard(ctx: TrackingContext, v: View): Promise<string> {
  const r = v.result;
  if (!r) return '';
  if (r.status === 'not_found' || r.status === 'ambiguous')
    return `<section class="error" role="alert"><p>${escapeHtml(
      r.status === 'ambiguous'
        ? `该手机号对应多位本活动客户（${r.candidates.join('、')}），请按回执编码或客户编号查找。`
        : r.message,
    )}</p></section>`;
  const c = r.customer;
  const who = `<h2>${escapeHtml(c.full_name)}（${escapeHtml(c.salutation)}）</h2>`;
  if (r.status === 'not_member')
    return `<section class="error" role="alert">${who}<p>客户编号 ${escapeHtml(c.external_id)}：不在本次活动中，不登记到访，不发放礼品。</p></section>`;

  const settings = await bookingSettingsOf(ctx.sql, v.campaign.id);
  const booking = await bookingOf(ctx.sql, v.campaign.id, c.id);
  const stock = await giftStock(ctx.sql, v.campaign);
  const entitled = r.member.holdout
    ? '对照组客户：登记到访，不发放礼品'
    : r.entitled
      ? `${r.entitled.text}${r.remaining !== null ? `（剩余 ${r.remaining}）` : ''}`
      : '本档无礼品';
  const rows: [string, string][] = [
    ['客户编号', c.external_id],
    ['客户经理', c.account_manager ?? '—'],
    ['排名 / 档位', `${r.member.rank ?? '—'} / ${r.member.band ?? '—'}`],
    ['可领礼品', entitled],
    ['在线预约', booking ? `已预约 ${bookedAtText(booking.slotAt, settings)}` : '无'],
  ];
  if (r.status === 'already' || r.status === 'recorded')
    rows.push([
      '到访登记',
      `${r.visitedAt ? r.visitedAt.slice(0, 16).replace('T', ' ') + ' UTC' : ''} 礼品：${giftText(r.gift, v.campaign)}`,
    ]);
  const facts = `<dl>${rows.map(([k, val]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(val)}</dd>`).join('')}</dl>`;
  if (!v.recordable || r.status === 'already' || r.status === 'recorded')
    return `<section aria-label="客户">${who}${facts}</section>`;

  // The gifts that can be handed out: the entitled one first, then others still in stock; none
  // for the holdout or a band without a gift.
  const entitledKey = r.entitled?.key;
  const options = !entitledKey
    ? []
    : stock
        .filter((g) => g.offer === entitledKey || (g.stock !== null && (g.remaining ?? 0) > 0))
        .sort((a, b) => Number(b.offer === entitledKey) - Number(a.offer === entitledKey))
        .map((g) => ({ key: g.offer, text: g.text, left: g.remaining, open: g.remaining === null || g.remaining > 0 }));
  const firstOpen = options.find((o) => o.open)?.key;
  const radios = options
    .map(
      (o) =>
        `<label><input type="radio" name="gift" value="${escapeHtml(o.key)}"${o.key === firstOpen ? ' checked' : ''}${o.open ? '' : ' disabled'}>${escapeHtml(o.text)}${o.left !== null ? `（剩余 ${o.left}）` : ''}</label>`,
    )
    .join('');
  const staffFocus = v.staff ? '' : ' autofocus';
  const buttonFocus = v.staff ? ' autofocus' : '';
  const canGive = r.member.holdout || !r.entitled || firstOpen !== undefined;
  return `<section aria-label="客户">${who}${facts}
  <form method="post" action="${escapeHtml(v.token)}">
    <input type="hidden" name="action" value="record"><input type="hidden" name="customer" value="${escapeHtml(c.external_id)}">
    <input type="hidden" name="csrf" value="${escapeHtml(visitFormToken(ctx.secret, v.token, c.external_id))}">
    ${options.length ? `<fieldset><legend>发放礼品</legend>${radios}</fieldset><label for="choice">具体选择（如 电风扇，可不填）</label><input id="choice" type="text" name="choice" maxlength="100" autocomplete="off">` : ''}
    <label for="staff-r">经办人</label><input id="staff-r" type="text" name="staff" value="${escapeHtml(v.staff)}" required maxlength="100"${staffFocus}>
    ${canGive ? `<button type="submit"${buttonFocus}>${r.member.holdout || !options.length ? '登记到访' : '登记到访并发放礼品'}</button>` : '<p role="alert">礼品均已发完，无法登记发放。</p>'}
  </form></section>`;
}

async function render(ctx: TrackingContext, res: ServerResponse, status: number, v: View): Promise<void> {
  const card = await customerCard(ctx, v);
  // The lookup box takes the focus, unless the record form just asked for it.
  const focusHere = !(v.recordable && card.includes(' autofocus'));
  const notice = v.notice
    ? `<section class="${v.notice.kind === 'alert' ? 'error' : 'notice'}" role="${v.notice.kind}"><p>${escapeHtml(v.notice.text)}</p></section>`
    : '';
  const body = `<h1>${escapeHtml(v.campaign.title)} · ${escapeHtml(v.link.branch)}</h1>
<p class="meta">到访登记 · 链接有效至 ${escapeHtml(v.link.expiresAt.toISOString().slice(0, 16).replace('T', ' '))} UTC</p>
${notice}${card}
<section><form method="post" action="${escapeHtml(v.token)}">
  <input type="hidden" name="action" value="lookup"><input type="hidden" name="csrf" value="${escapeHtml(visitFormToken(ctx.secret, v.token, 'lookup'))}">
  <input type="hidden" name="staff" value="${escapeHtml(v.staff)}">
  <label for="q">回执编码（扫码或输入）、手机号或客户编号</label>
  <input id="q" type="text" name="q" required maxlength="300" autocomplete="off" autocapitalize="characters" spellcheck="false" enterkeyhint="search"${focusHere ? ' autofocus' : ''}>
  <button type="submit">查找客户</button>
</form></section>`;
  html(res, status, layout(`${v.campaign.title} · ${v.link.branch} · 到访登记`, body));
}

function recordedNotice(r: VisitResult, campaign: StoredCampaign): View['notice'] {
  if (r.status === 'recorded')
    return {
      kind: 'status',
      text: `已登记到访：${r.customer.full_name}${r.member.holdout ? '（对照组，不发礼品）' : `，发放礼品：${giftText(r.gift, campaign)}${r.remaining !== null ? `，剩余 ${r.remaining}` : ''}`}`,
    };
  if (r.status === 'already') return { kind: 'status', text: `${r.customer.full_name} 此前已登记到访，未重复登记。` };
  if (r.status === 'out_of_stock')
    return {
      kind: 'alert',
      text: `礼品「${giftText(r.gift, campaign)}」已发完（剩余 ${r.remaining ?? 0}），未登记。可改发其他礼品。`,
    };
  return undefined;
}

/** GET or POST /visit/<token>. */
export async function visitPage(
  ctx: TrackingContext,
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
): Promise<void> {
  const method = req.method ?? 'GET';
  const link = await openLink(
    req,
    res,
    { log: ctx.log, route: '/visit', howToGetOne: HOW_TO_GET_ONE },
    checkBranchLink(ctx.secret, token),
  );
  if (!link) return;
  const fields = method === 'POST' ? formFields(await readBody(req)) : null;
  if (fields) {
    const subject = fields.action === 'record' ? (fields.customer ?? '') : 'lookup';
    if (
      !sameOrigin(req) ||
      (fields.action !== 'record' && fields.action !== 'lookup') ||
      !subject ||
      !checkVisitFormToken(ctx.secret, token, subject, fields.csrf ?? '')
    ) {
      ctx.log.warn({ route: '/visit' }, 'refused a form post without a valid form token or from another site');
      return text(res, 403, 'This form was not sent from your page; open your link again.');
    }
  }
  const campaign = await campaignById(ctx.sql, link.campaignId);
  if (!campaign) return refusal(res, 404, '活动不存在', HOW_TO_GET_ONE);
  const staff = (fields?.staff ?? '').trim().slice(0, 100);
  const view: View = { link, token, campaign, staff };
  if (!fields) return render(ctx, res, 200, view);
  if (fields.action === 'lookup') {
    const result = await lookUp(ctx, campaign, (fields.q ?? '').slice(0, 300));
    return render(ctx, res, 200, { ...view, result, recordable: result.status === 'found' });
  }
  if (!staff) return render(ctx, res, 422, { ...view, notice: { kind: 'alert', text: '请填写经办人。' } });
  const result = await registerVisit(ctx.sql, campaign, {
    by: { customer: fields.customer! },
    gift: fields.gift || undefined,
    choice: fields.choice?.trim().slice(0, 100) || undefined,
    staff,
    branch: link.branch,
    secret: ctx.secret,
  });
  ctx.log.info({ route: '/visit', campaignId: campaign.id, status: result.status }, 'branch visit');
  const refused = result.status === 'out_of_stock';
  return render(ctx, res, refused ? 409 : 200, {
    ...view,
    result: refused
      ? await lookupVisit(ctx.sql, campaign, { by: { customer: fields.customer! }, secret: ctx.secret })
      : result,
    recordable: refused,
    notice: recordedNotice(result, campaign),
  });
}
