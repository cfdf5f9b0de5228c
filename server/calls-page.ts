// The account manager's page: /calls/<signed link>. GET shows the manager's open call tasks of
// one campaign, each with the script and a form for the outcome; POST records one outcome through
// recordCallOutcome. The link is checked before anything is read (an altered or expired link is
// refused and writes nothing); a post must carry the form token of that link and task, come from
// this site, and name a task of this link's manager. Plain HTML forms: no script, usable on a
// phone and by keyboard.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Sql } from '../db/connection.ts';
import { escapeHtml, formFields, html, readBody, sameOrigin, text } from './http.ts';
import { checkFormToken, checkManagerLink, formToken } from '../pipeline/calls/manager-link.ts';
import { campaignById, layout, openLink, refusal } from './pages.ts';
import { bookedAtText, bookingSettingsOf } from '../pipeline/calls/booking.ts';
import { callList, type CallListRow } from '../pipeline/calls/call-list.ts';
import { CALL_OUTCOMES, recordCallOutcome, type CallOutcome } from '../pipeline/calls/call-tasks.ts';
import { loadCallScript } from '../pipeline/calls/call-script.ts';
import { parseDateTime } from '../pipeline/calls/import-outcomes.ts';
import { dirname } from 'node:path';

export interface CallsPageContext {
  sql: Sql;
  secret: string;
  trackingUrl: string;
  log: Logger;
}

const LABELS: Record<CallOutcome, string> = {
  appointment: '已预约到访',
  declined: '婉拒',
  call_back: '约定回电',
  no_answer: '无人接听',
  wrong_number: '号码有误',
};

const HOW_TO_GET_ONE = '请向网点主任索取新的链接（mailroom calls link）。';

function taskForm(
  token: string,
  csrf: string,
  r: CallListRow,
  outcomes: { outcome: CallOutcome; label: string }[],
): string {
  const id = `t${r.task_id}`;
  const radios = outcomes
    .map(
      (o) => `<label><input type="radio" name="outcome" value="${o.outcome}" required>${escapeHtml(o.label)}</label>`,
    )
    .join('');
  const last = r.last_contacts
    .map(
      (c) =>
        `<li>${escapeHtml(`${c.at.slice(0, 10)} ${c.channel} ${c.who}: ${c.outcome ?? ''}${c.next_step ? ` → ${c.next_step}` : ''}`)}</li>`,
    )
    .join('');
  return `<section aria-labelledby="${id}-name">
  <h2 id="${id}-name">${escapeHtml(r.name)}（${escapeHtml(r.salutation)}）</h2>
  <p class="meta">${r.phone ? `<a href="tel:${escapeHtml(r.phone)}">${escapeHtml(r.phone)}</a>` : '无电话'}${r.phone_flagged ? ' · 号码有误' : ''} · 排名 ${r.rank ?? '—'} · ${escapeHtml(r.band ?? '—')} · 礼品 ${escapeHtml(r.offer ?? '—')} · 已拨 ${r.attempts}/${r.attempts_allowed}${r.status === 'overdue' ? ' · 已逾期' : ''}</p>
  <details><summary>通话话术</summary><div class="script">${escapeHtml(r.script)}</div></details>
  ${last ? `<details><summary>最近联系</summary><ul>${last}</ul></details>` : ''}
  <form method="post" action="${escapeHtml(token)}">
    <input type="hidden" name="task" value="${r.task_id}"><input type="hidden" name="attempt" value="${r.attempts}">
    <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
    <fieldset><legend>通话结果</legend>${radios}</fieldset>
    <label for="${id}-at">预约到访时间（已预约时填写）</label><input id="${id}-at" type="datetime-local" name="appointment_at">
    <label for="${id}-cb">回电日期（约定回电时填写）</label><input id="${id}-cb" type="date" name="call_back_on">
    <label for="${id}-note">备注</label><textarea id="${id}-note" name="note" rows="2" maxlength="2000"></textarea>
    <button type="submit">记录 ${escapeHtml(r.name)} 的结果</button>
  </form>
</section>`;
}

/** GET or POST /calls/<token>. */
export async function callsPage(
  ctx: CallsPageContext,
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
  query: URLSearchParams,
): Promise<void> {
  const method = req.method ?? 'GET';
  const link = await openLink(
    req,
    res,
    { log: ctx.log, route: '/calls', howToGetOne: HOW_TO_GET_ONE },
    checkManagerLink(ctx.secret, token),
  );
  if (!link) return;
  let notice = '';
  if (method === 'POST') {
    const fields = formFields(await readBody(req));
    const taskId = /^\d{1,15}$/.test(fields.task ?? '') ? Number(fields.task) : 0;
    if (!sameOrigin(req) || !taskId || !checkFormToken(ctx.secret, token, taskId, fields.csrf ?? '')) {
      ctx.log.warn({ route: '/calls' }, 'refused a form post without a valid form token or from another site');
      return text(res, 403, 'This form was not sent from your page; open your link again.');
    }
    // The task must be this manager's, in this campaign: a link never touches another's customers.
    const [owned] = await ctx.sql<{ id: number }[]>`
      select id from call_tasks where id = ${taskId} and campaign_id = ${link.campaignId} and manager = ${link.manager}`;
    if (!owned) return text(res, 403, 'That task is not on your list.');
    const outcome = (CALL_OUTCOMES as readonly string[]).includes(fields.outcome ?? '')
      ? (fields.outcome as CallOutcome)
      : null;
    const appointmentAt = fields.appointment_at ? parseDateTime(fields.appointment_at) : null;
    const callBackOn =
      fields.call_back_on && /^\d{4}-\d{2}-\d{2}$/.test(fields.call_back_on) ? fields.call_back_on : null;
    const problem = !outcome
      ? '请选择通话结果。'
      : outcome === 'appointment' && !appointmentAt
        ? '已预约：请填写预约到访时间。'
        : outcome === 'call_back' && !callBackOn
          ? '约定回电：请填写回电日期。'
          : null;
    if (problem) notice = `<section class="error" role="alert"><p>${escapeHtml(problem)}</p></section>`;
    else {
      // Keyed by the attempt the page showed: a post sent twice (a double tap, a resend) counts once.
      const result = await recordCallOutcome(ctx.sql, {
        taskId,
        outcome: outcome!,
        appointmentAt,
        callBackOn,
        note: fields.note?.trim() ? fields.note.trim().slice(0, 2000) : null,
        recordedBy: link.manager,
        source: 'page',
        key: `page:${taskId}:${/^\d{1,4}$/.test(fields.attempt ?? '') ? fields.attempt : 'x'}`,
      });
      res.writeHead(303, {
        location: `${token}?done=${taskId}&applied=${result.applied ? 1 : 0}`,
        'cache-control': 'no-store',
      });
      return void res.end();
    }
  }
  // Read after a post is handled: recording an outcome needs neither the campaign file nor the script.
  const campaign = await campaignById(ctx.sql, link.campaignId);
  if (!campaign) return refusal(res, 404, '活动不存在', HOW_TO_GET_ONE);
  const wave = campaign.callWaves[0];
  const outcomes = (
    wave
      ? loadCallScript(wave.template, dirname(campaign.file)).outcomes
      : CALL_OUTCOMES.map((o) => ({ outcome: o, label: LABELS[o] }))
  ).map((o) => ({ outcome: o.outcome, label: o.label === o.outcome ? LABELS[o.outcome] : o.label }));

  if (query.get('done')) {
    const [done] = await ctx.sql<{ full_name: string; outcome: string | null }[]>`
      select c.full_name, t.outcome from call_tasks t join customers c on c.id = t.customer_id
      where t.id = ${Number(query.get('done')) || 0} and t.campaign_id = ${link.campaignId} and t.manager = ${link.manager}`;
    if (done)
      notice = `<section class="notice" role="status"><p>${escapeHtml(
        query.get('applied') === '1'
          ? `已记录：${done.full_name} — ${LABELS[done.outcome as CallOutcome] ?? done.outcome}`
          : `${done.full_name} 的结果此前已记录，未重复记录。`,
      )}</p></section>`;
  }
  const rows = await callList(ctx.sql, campaign, {
    manager: link.manager,
    due: true,
    secret: ctx.secret,
    trackingUrl: ctx.trackingUrl,
    asOf: new Date(),
  });
  // Customers who booked a visit on their landing page: their tasks are settled, nobody calls them.
  const booked = await ctx.sql<{ full_name: string; slot_at: Date }[]>`
    select c.full_name, b.slot_at from call_tasks t
      join bookings b on b.campaign_id = t.campaign_id and b.customer_id = t.customer_id
      join customers c on c.id = t.customer_id
    where t.campaign_id = ${link.campaignId} and t.manager = ${link.manager}
    order by b.slot_at, c.id`;
  const settings = booked.length ? await bookingSettingsOf(ctx.sql, link.campaignId) : null;
  const bookedList = booked.length
    ? `<section aria-labelledby="booked"><h2 id="booked">已在线预约，无需拨打（${booked.length}）</h2><ul>${booked
        .map((b) => `<li>${escapeHtml(b.full_name)} · 预约到访 ${escapeHtml(bookedAtText(b.slot_at, settings))}</li>`)
        .join('')}</ul></section>`
    : '';
  const body = `<h1>${escapeHtml(campaign.title)} · ${escapeHtml(link.manager)}</h1>
<p class="meta">待拨打 ${rows.length} 位客户 · 链接有效至 ${escapeHtml(link.expiresAt.toISOString().slice(0, 16).replace('T', ' '))} UTC</p>
${notice}
${rows.map((r) => taskForm(token, formToken(ctx.secret, token, r.task_id), r, outcomes)).join('\n') || '<section><p>没有待拨打的客户。</p></section>'}
${bookedList}`;
  html(res, 200, layout(`${campaign.title} · ${link.manager}`, body));
}
