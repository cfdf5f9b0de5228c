// Call outcomes kept in a spreadsheet: a CSV (UTF-8, UTF-8 with BOM or GBK; Chinese or English
// headers) with one outcome per row. Each row names its task (task_id) or its campaign and
// customer; bad rows go to a rejects file with their row number and reasons, the rest are
// applied through recordCallOutcome, keyed by the row's content so importing twice changes nothing.
import { createHash } from 'node:crypto';
import { basename, dirname, extname, join } from 'node:path';
import { ExitCode, UserError } from '../../config/errors.ts';
import type { Sql } from '../../db/connection.ts';
import { openCsv } from '../customers/import/csv-file.ts';
import { displayEncoding } from '../customers/import/encoding.ts';
import { normaliseHeader } from '../customers/import/mapping.ts';
import { RejectsWriter } from '../customers/import/rejects.ts';
import { CALL_OUTCOMES, recordCallOutcome, type CallOutcome } from './call-tasks.ts';

const COLUMNS = {
  task_id: ['task', 'task_no', '任务编号', '任务号'],
  campaign: ['campaign_name', '活动', '活动名称'],
  customer: ['external_id', 'customer_id', 'customer_no', '客户编号', '客户号'],
  wave: ['波次'],
  outcome: ['result', '结果', '通话结果', '外呼结果'],
  appointment_at: ['appointment', 'visit_at', '预约时间', '预约到访时间'],
  call_back_on: ['call_back', 'callback', 'call_back_date', '回电日期'],
  called_at: ['call_time', 'called', '通话时间', '拨打时间'],
  manager: ['called_by', 'recorded_by', '客户经理', '经办人'],
  note: ['notes', 'remark', '备注', '说明'],
} as const;
type Column = keyof typeof COLUMNS;

// Outcome words as managers write them.
const OUTCOME_WORDS: Record<string, CallOutcome> = {
  appointment: 'appointment',
  booked: 'appointment',
  预约: 'appointment',
  已预约: 'appointment',
  预约到访: 'appointment',
  declined: 'declined',
  婉拒: 'declined',
  拒绝: 'declined',
  call_back: 'call_back',
  callback: 'call_back',
  回电: 'call_back',
  约定回电: 'call_back',
  no_answer: 'no_answer',
  无人接听: 'no_answer',
  未接通: 'no_answer',
  未接: 'no_answer',
  wrong_number: 'wrong_number',
  号码有误: 'wrong_number',
  号码错误: 'wrong_number',
  空号: 'wrong_number',
};

export interface OutcomeImportSummary {
  read: number;
  applied: number;
  /** Rows recorded before (the same row imported again). */
  replayed: number;
  /** Rows whose task was already settled or failed by another outcome. */
  closed: number;
  rejected: number;
  rejectsPath: string | null;
  encoding: string;
  unmatchedColumns: string[];
  /** The campaigns whose tasks an applied row changed: their call waves are told to look again. */
  campaigns: string[];
}

function columnOf(header: string): Column | null {
  const h = normaliseHeader(header);
  for (const [column, aliases] of Object.entries(COLUMNS) as [Column, readonly string[]][])
    if (h === column || aliases.includes(h)) return column;
  return null;
}

/** 2026-12-03 14:30, 2026/12/3 14:30, 2026-12-03T14:30+08:00; local times are in `timezone`'s offset (+08:00 by default). */
export function parseDateTime(text: string, offset = '+08:00'): Date | null {
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text.trim(),
  );
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', zone] = m;
  const pad = (v: string) => v.padStart(2, '0');
  const iso = `${y}-${pad(mo!)}-${pad(d!)}T${pad(h)}:${pad(mi)}:${pad(s)}${zone ?? offset}`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  // 2026-02-30 rolls over in Date: refuse it.
  const local = new Date(date.getTime() + offsetMinutes(zone ?? offset) * 60_000);
  if (local.getUTCDate() !== Number(d) || local.getUTCMonth() + 1 !== Number(mo)) return null;
  return date;
}

function offsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

export interface OutcomeImportOptions {
  file: string;
  /** For sheets without a campaign column. */
  campaign?: string | undefined;
  encoding?: string | undefined;
  rejectsPath?: string | undefined;
}

export async function importCallOutcomes(sql: Sql, opts: OutcomeImportOptions): Promise<OutcomeImportSummary> {
  const csv = await openCsv(opts.file, opts.encoding);
  const first = await csv.records.next();
  if (first.done) throw new UserError(`${opts.file}: the file is empty; it needs a header row`, ExitCode.badInput);
  const headers = first.value.fields;
  const index = new Map<Column, number>();
  const unmatched: string[] = [];
  headers.forEach((h, i) => {
    const column = columnOf(h);
    if (!column) unmatched.push(h);
    else if (index.has(column))
      throw new UserError(
        `${opts.file}:1: columns "${headers[index.get(column)!]}" and "${h}" both mean ${column}`,
        ExitCode.badInput,
      );
    else index.set(column, i);
  });
  if (!index.has('outcome'))
    throw new UserError(
      `${opts.file}:1: no outcome column (outcome or 结果); the headers are: ${headers.join(', ')}`,
      ExitCode.badInput,
    );
  if (!index.has('task_id') && !index.has('customer'))
    throw new UserError(
      `${opts.file}:1: each row must name its task (task_id / 任务编号) or its customer (customer / 客户编号); the headers are: ${headers.join(', ')}`,
      ExitCode.badInput,
    );
  if (!index.has('task_id') && !index.has('campaign') && !opts.campaign)
    throw new UserError(
      `${opts.file}:1: the sheet has no campaign column (campaign / 活动); name the campaign with --campaign`,
      ExitCode.badInput,
    );

  const ext = extname(opts.file);
  const rejects = new RejectsWriter(
    opts.rejectsPath ?? join(dirname(opts.file), `${basename(opts.file, ext)}.rejects.csv`),
    headers,
  );
  const summary: OutcomeImportSummary = {
    read: 0,
    applied: 0,
    replayed: 0,
    closed: 0,
    rejected: 0,
    rejectsPath: null,
    encoding: displayEncoding(csv.encoding.encoding),
    unmatchedColumns: unmatched,
    campaigns: [],
  };
  const changedTasks = new Set<number>();
  const campaignIds = new Map<string, number | null>();
  const campaignId = async (slug: string) => {
    if (!campaignIds.has(slug)) {
      const [row] = await sql<{ id: number }[]>`select id from campaigns where slug = ${slug}`;
      campaignIds.set(slug, row?.id ?? null);
    }
    return campaignIds.get(slug)!;
  };

  let row = 0;
  for await (const record of csv.records) {
    row++;
    summary.read++;
    const reasons: string[] = [];
    const reject = () => rejects.write({ row, line: record.line, reasons, fields: record.fields, raw: record.raw });
    if (record.error) {
      reasons.push(record.error);
      await reject();
      continue;
    }
    if (record.fields.length !== headers.length) {
      reasons.push(`has ${record.fields.length} values; the header has ${headers.length}`);
      await reject();
      continue;
    }
    const get = (c: Column) => (index.has(c) ? record.fields[index.get(c)!]!.trim() : '');
    const named = (c: Column) => `${headers[index.get(c)!]}`;

    const outcomeText = get('outcome');
    const word = outcomeText.toLowerCase().replace(/[\s-]+/g, '_');
    // Own keys only: a cell reading "constructor" is not an outcome.
    const outcome = Object.hasOwn(OUTCOME_WORDS, word) ? OUTCOME_WORDS[word]! : null;
    if (!outcome)
      reasons.push(
        `${named('outcome')} "${outcomeText}" is not an outcome (${CALL_OUTCOMES.join(', ')}, or 已预约, 婉拒, 约定回电, 无人接听, 号码有误)`,
      );
    let appointmentAt: Date | null = null;
    if (get('appointment_at')) {
      appointmentAt = parseDateTime(get('appointment_at'));
      if (!appointmentAt)
        reasons.push(
          `${named('appointment_at')} "${get('appointment_at')}" is not a date and time such as 2026-12-03 14:30`,
        );
    } else if (outcome === 'appointment')
      reasons.push('an appointment needs its date and time (appointment_at / 预约时间)');
    let callBackOn: string | null = null;
    if (get('call_back_on')) {
      const d = parseDateTime(get('call_back_on'), 'Z');
      if (!d) reasons.push(`${named('call_back_on')} "${get('call_back_on')}" is not a date such as 2026-12-05`);
      else callBackOn = d.toISOString().slice(0, 10);
    } else if (outcome === 'call_back') reasons.push('a call back needs its date (call_back_on / 回电日期)');
    let calledAt: Date | null = null;
    if (get('called_at')) {
      calledAt = parseDateTime(get('called_at'));
      if (!calledAt)
        reasons.push(`${named('called_at')} "${get('called_at')}" is not a date and time such as 2026-12-02 10:05`);
    }
    let taskId: number | undefined;
    if (get('task_id')) {
      if (!/^\d{1,15}$/.test(get('task_id')))
        reasons.push(`${named('task_id')} "${get('task_id')}" is not a task number`);
      else taskId = Number(get('task_id'));
    }
    let campaign: number | undefined;
    let customerId: number | undefined;
    if (taskId === undefined && !reasons.length) {
      const slug = get('campaign') || opts.campaign || '';
      const id = slug ? await campaignId(slug) : null;
      if (id === null)
        reasons.push(slug ? `campaign "${slug}" does not exist` : 'names no campaign (campaign / 活动, or --campaign)');
      else campaign = id;
      const ref = get('customer');
      if (!ref) reasons.push('names no task and no customer');
      else {
        const [c] = await sql<{ id: number }[]>`select id from customers where external_id = ${ref}`;
        if (!c) reasons.push(`${named('customer')} "${ref}" is not a customer's external id`);
        else customerId = c.id;
      }
    }
    if (reasons.length) {
      await reject();
      continue;
    }
    // The same row (same task or customer, outcome, dates and call time) is the same outcome.
    const identity = createHash('sha256')
      .update(
        JSON.stringify([
          taskId ?? null,
          campaign ?? null,
          customerId ?? null,
          get('wave'),
          outcome,
          appointmentAt,
          callBackOn,
          calledAt,
          calledAt ? '' : get('note'),
        ]),
      )
      .digest('hex')
      .slice(0, 32);
    const result = await recordCallOutcome(sql, {
      ...(taskId !== undefined ? { taskId } : { campaignId: campaign!, customerId: customerId! }),
      ...(get('wave') ? { wave: get('wave') } : {}),
      outcome: outcome!,
      appointmentAt,
      callBackOn,
      note: get('note') || null,
      recordedBy: get('manager') || null,
      source: 'sheet',
      key: `sheet:${identity}`,
      ...(calledAt ? { occurredAt: calledAt } : {}),
    });
    if (result.applied) {
      summary.applied++;
      if (result.taskId !== null) changedTasks.add(result.taskId);
    } else if (result.reason === 'replayed') summary.replayed++;
    else if (result.reason === 'closed') summary.closed++;
    else {
      reasons.push(
        taskId !== undefined
          ? `task ${taskId} does not exist`
          : `the customer has no call task in this campaign${get('wave') ? ` (wave ${get('wave')})` : ''}`,
      );
      await reject();
    }
  }
  summary.rejected = rejects.count;
  summary.rejectsPath = await rejects.close();
  if (changedTasks.size)
    summary.campaigns = (
      await sql<{ slug: string }[]>`
        select distinct c.slug from call_tasks t join campaigns c on c.id = t.campaign_id
        where t.id = any(${[...changedTasks]}::bigint[]) order by c.slug`
    ).map((r) => r.slug);
  return summary;
}
