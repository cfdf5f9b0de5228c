// One row of a responses file: its values checked and normalised (the phone to E.164, the code as
// printed, the time as ISO text), or the reasons it is refused, each naming the field, the column
// and the value. A row must give at least one matching key.
import {
  FieldError,
  cleanLine,
  parseCurrency,
  parseDateTime,
  parseDecimal,
  parseEmail,
  parsePhone,
} from '../../customers/fields.ts';
import { copyLine } from '../../customers/import/copy-stage.ts';
import { normaliseCode } from '../member-codes.ts';
import { IMPORTED_KINDS, type ImportedKind } from '../record.ts';
import { MATCH_KEYS, type ResponseColumns, type ResponseField } from './columns.ts';

export interface ResponseRowSettings {
  /** Region of phone numbers written without a country code. */
  country: string;
  /** Currency of values when the file has no currency column. */
  currency: string;
  /** The source of rows that name none (--source); rows must name theirs when there is none. */
  source: string | undefined;
  /** The last calendar day (YYYY-MM-DD) a response may have happened on: tomorrow, for time zones. */
  latestDay: string;
}

export interface ResponseRecord {
  source: string;
  source_id: string;
  kind: ImportedKind;
  /** ISO date-time; without an offset it is local time in the import's time zone. */
  occurred_at: string;
  code: string | undefined;
  external_id: string | undefined;
  phone: string | undefined;
  email: string | undefined;
  value: string | undefined;
  currency: string | undefined;
  branch: string | undefined;
  staff: string | undefined;
  campaign: string | undefined;
}

const KIND_WORDS: Record<string, ImportedKind> = {
  coupon: 'coupon_redemption',
  redemption: 'coupon_redemption',
  coupon_redeemed: 'coupon_redemption',
  券核销: 'coupon_redemption',
  优惠券核销: 'coupon_redemption',
  核销: 'coupon_redemption',
  兑换: 'coupon_redemption',
  visit: 'branch_visit',
  store_visit: 'branch_visit',
  到店: 'branch_visit',
  到访: 'branch_visit',
  网点到访: 'branch_visit',
  call: 'call_outcome',
  电话: 'call_outcome',
  外呼: 'call_outcome',
  电话回访: 'call_outcome',
  purchase: 'order',
  sale: 'order',
  订单: 'order',
  购买: 'order',
  成交: 'order',
  booking: 'appointment',
  预约: 'appointment',
};

export function parseKind(value: string): ImportedKind {
  const v = cleanLine(value, 40)
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if ((IMPORTED_KINDS as readonly string[]).includes(v)) return v as ImportedKind;
  const word = Object.hasOwn(KIND_WORDS, v) ? KIND_WORDS[v] : undefined;
  if (word) return word;
  throw new FieldError(`is not a kind of response that can be imported: use one of ${IMPORTED_KINDS.join(', ')}`);
}

/** The name of the system a response comes from: with its source_id it identifies the response. */
export function parseSourceName(value: string): string {
  const v = cleanLine(value, 100);
  if (v.includes(':')) throw new FieldError('must not contain ":"');
  return v;
}

function parseCode(value: string): string {
  const code = normaliseCode(cleanLine(value, 40));
  if (!code) throw new FieldError('is not a response code (the 10 letters and digits printed on the piece)');
  return code;
}

function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}…` : value);
}

export type ResponseRowResult = { ok: true; record: ResponseRecord } | { ok: false; reasons: string[] };

export function validateResponseRow(
  columns: ResponseColumns,
  fields: string[],
  settings: ResponseRowSettings,
): ResponseRowResult {
  if (fields.length !== columns.headers.length)
    return { ok: false, reasons: [`has ${fields.length} values but the header has ${columns.headers.length} columns`] };
  const reasons: string[] = [];
  const cell = (field: ResponseField) => {
    const i = columns.index.get(field);
    const value = i === undefined ? '' : (fields[i] ?? '');
    return value.trim() === '' ? undefined : { value, header: columns.headers[i!]! };
  };
  const get = <T>(field: ResponseField, parse: (v: string) => T, required = false): T | undefined => {
    const c = cell(field);
    if (!c) {
      if (required) reasons.push(`${field}: is required but empty`);
      return undefined;
    }
    try {
      return parse(c.value);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      const label = c.header === field ? field : `${field} (column "${c.header}")`;
      reasons.push(`${label}: ${show(c.value)} ${error.message}`);
      return undefined;
    }
  };
  const line = (max: number) => (v: string) => cleanLine(v, max);
  const occurredAt = (v: string) => {
    const iso = parseDateTime(v);
    if (iso.slice(0, 10) > settings.latestDay) throw new FieldError('is in the future');
    return iso;
  };
  const value = get('value', (v) => parseDecimal(v, { allowNegative: true, maxScale: 2, maxIntegerDigits: 12 }));
  const record: ResponseRecord = {
    source: get('source', parseSourceName, settings.source === undefined) ?? settings.source ?? '',
    source_id: get('source_id', line(200), true) ?? '',
    kind: get('kind', parseKind, true) ?? 'order',
    occurred_at: get('occurred_at', occurredAt, true) ?? '',
    code: get('code', parseCode),
    external_id: get('external_id', line(100)),
    phone: get('phone', (v) => parsePhone(v, settings.country)),
    email: get('email', parseEmail),
    value,
    currency: get('currency', parseCurrency) ?? (value !== undefined ? settings.currency : undefined),
    branch: get('branch', line(100)),
    staff: get('staff', line(100)),
    campaign: get('campaign', line(200)),
  };
  if (!MATCH_KEYS.some((k) => cell(k)))
    reasons.push(
      `no matching key: give ${MATCH_KEYS.filter((k) => columns.index.has(k)).join(', ')} (at least one) to find the customer`,
    );
  return reasons.length ? { ok: false, reasons } : { ok: true, record };
}

/** The row as one line of COPY text for the staging table, `n` being its row number in the file. */
export function responseCopyLine(r: ResponseRecord, n: number): string {
  return copyLine([
    String(n),
    r.source,
    r.source_id,
    r.kind,
    r.occurred_at,
    r.code,
    r.external_id,
    r.phone,
    r.email,
    r.value,
    r.currency,
    r.branch,
    r.staff,
    r.campaign,
  ]);
}
