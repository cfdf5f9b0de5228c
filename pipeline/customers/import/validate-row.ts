// Turns one CSV record into a normalised customer or order, or into the list of reasons it was
// rejected. Every reason names the column, the field and the value.
import {
  FieldError,
  cleanAddressLine,
  cleanLine,
  cleanText,
  defaultLocale,
  defaultTimezone,
  hasCjk,
  parseBoolean,
  parseConsent,
  parseCountry,
  parseCurrency,
  parseDate,
  parseDateTime,
  parseDecimal,
  parseEmail,
  parseGender,
  parseLocale,
  parsePhone,
  parsePostalCode,
  parseTimezone,
  postalProvinceWarning,
} from '../fields.ts';
import type { CustomerRecord, OrderRecord } from '../records.ts';
import type { AttributeType, ColumnMapping } from './mapping.ts';

export interface RowSettings {
  /** Country of rows that name none: the region for phone numbers and the postal-code rules. */
  country: string;
  currency: string;
  today: string;
}

export type RowResult<T> = { ok: true; record: T; warnings?: string[] } | { ok: false; reasons: string[] };

function show(value: string): string {
  const v = value.length > 60 ? `${value.slice(0, 57)}…` : value;
  return JSON.stringify(v);
}

class RowReader {
  readonly reasons: string[] = [];
  constructor(
    private readonly mapping: ColumnMapping,
    private readonly fields: string[],
  ) {}

  /** The raw value of a field, or undefined when the file has no such column or the cell is empty. */
  raw(field: string): { value: string; header: string } | undefined {
    const index = this.mapping.fieldIndex.get(field);
    if (index === undefined) return undefined;
    const value = this.fields[index] ?? '';
    return value.trim() === '' ? undefined : { value, header: this.mapping.headers[index]! };
  }

  /** The parsed value of a field (`parse(value, arg)`), or undefined with a reason noted. */
  get<T, A = undefined>(field: string, parse: (v: string, arg: A) => T, arg?: A): T | undefined {
    const cell = this.raw(field);
    if (!cell) return undefined;
    try {
      return parse(cell.value, arg as A);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      const label = cell.header === field ? field : `${field} (column "${cell.header}")`;
      this.reasons.push(`${label}: ${show(cell.value)} ${error.message}`);
      return undefined;
    }
  }

  attributes(): Record<string, string | number | boolean> {
    const out: Record<string, string | number | boolean> = {};
    this.mapping.targets.forEach((target, index) => {
      if (target.kind !== 'attribute') return;
      const value = this.fields[index] ?? '';
      if (value.trim() === '') return;
      try {
        out[target.key] = parseAttribute(value, target.type);
      } catch (error) {
        if (!(error instanceof FieldError)) throw error;
        this.reasons.push(
          `attributes.${target.key} (column "${this.mapping.headers[index]}"): ${show(value)} ${error.message}`,
        );
      }
    });
    return out;
  }

  required(field: string, label = field): void {
    if (!this.raw(field)) this.reasons.push(`${label}: is required but empty`);
  }
}

function parseAttribute(value: string, type: AttributeType): string | number | boolean {
  switch (type) {
    case 'number':
      return Number(parseDecimal(value, { allowNegative: true }));
    case 'date':
      return parseDate(value);
    case 'boolean':
      return parseBoolean(value);
    default:
      return cleanText(value, 1000);
  }
}

// Parsers made once, not per row.
const LINE_50 = (v: string) => cleanLine(v, 50);
const LINE_100 = (v: string) => cleanLine(v, 100);
const LINE_200 = (v: string) => cleanLine(v, 200);
const ADDRESS_LINE = (v: string) => cleanAddressLine(v, 300);

function columnCountReason(mapping: ColumnMapping, fields: string[]): string | undefined {
  if (fields.length === mapping.headers.length) return undefined;
  return `has ${fields.length} values but the header has ${mapping.headers.length} columns`;
}

export function validateCustomerRow(
  mapping: ColumnMapping,
  fields: string[],
  settings: RowSettings,
): RowResult<CustomerRecord> {
  const countProblem = columnCountReason(mapping, fields);
  if (countProblem) return { ok: false, reasons: [countProblem] };
  const r = new RowReader(mapping, fields);
  r.required('external_id');
  const external_id = r.get('external_id', LINE_100);
  const family_name = r.get('family_name', LINE_100);
  const given_name = r.get('given_name', LINE_100);
  let full_name = r.get('full_name', LINE_200);
  if (!full_name && !r.raw('full_name') && (family_name || given_name)) {
    const cjk = hasCjk(`${family_name ?? ''}${given_name ?? ''}`);
    full_name = cjk ? `${family_name ?? ''}${given_name ?? ''}` : [given_name, family_name].filter(Boolean).join(' ');
  }
  if (!full_name && !r.raw('full_name') && !family_name && !given_name)
    r.reasons.push('full_name: is required but empty (or give family_name/given_name)');
  const country = r.get('country', parseCountry);
  const effectiveCountry = country ?? settings.country;
  const record: CustomerRecord = {
    external_id: external_id ?? '',
    full_name: full_name ?? '',
    family_name,
    given_name,
    gender: r.get('gender', parseGender),
    salutation: r.get('salutation', LINE_50),
    locale: r.get('locale', parseLocale),
    email: r.get('email', parseEmail),
    phone: r.get('phone', parsePhone, effectiveCountry),
    address_line1: r.get('address_line1', ADDRESS_LINE),
    address_line2: r.get('address_line2', ADDRESS_LINE),
    district: r.get('district', LINE_100),
    city: r.get('city', LINE_100),
    province: r.get('province', LINE_100),
    postal_code: r.get('postal_code', parsePostalCode, effectiveCountry),
    country,
    birthday: r.get('birthday', parseDate, { notBefore: '1900-01-01', notAfter: settings.today }),
    timezone: r.get('timezone', parseTimezone),
    created_at: r.get('created_at', parseDateTime),
    attributes: r.attributes(),
    consents: {
      mail: r.get('consent_mail', parseConsent),
      email: r.get('consent_email', parseConsent),
      sms: r.get('consent_sms', parseConsent),
    },
    defaults: {
      country: effectiveCountry,
      timezone: defaultTimezone(effectiveCountry),
      locale: defaultLocale(full_name ?? '', effectiveCountry),
    },
  };
  if (r.reasons.length) return { ok: false, reasons: r.reasons };
  const warning =
    record.postal_code && record.province
      ? postalProvinceWarning(record.postal_code, record.province, effectiveCountry)
      : undefined;
  return warning ? { ok: true, record, warnings: [warning] } : { ok: true, record };
}

export function validateOrderRow(
  mapping: ColumnMapping,
  fields: string[],
  settings: RowSettings,
): RowResult<OrderRecord> {
  const countProblem = columnCountReason(mapping, fields);
  if (countProblem) return { ok: false, reasons: [countProblem] };
  const r = new RowReader(mapping, fields);
  for (const f of ['order_ref', 'customer_external_id', 'amount', 'occurred_at']) r.required(f);
  const record: OrderRecord = {
    order_ref: r.get('order_ref', (v) => cleanText(v, 100)) ?? '',
    customer_external_id: r.get('customer_external_id', (v) => cleanText(v, 100)) ?? '',
    // orders.amount is numeric(14,2): twelve digits before the point.
    amount: r.get('amount', (v) => parseDecimal(v, { allowNegative: true, maxScale: 2, maxIntegerDigits: 12 })) ?? '0',
    currency: r.get('currency', parseCurrency) ?? settings.currency,
    occurred_at: r.get('occurred_at', parseDateTime) ?? '',
    channel: r.get('channel', (v) => cleanText(v, 50)),
  };
  return r.reasons.length ? { ok: false, reasons: r.reasons } : { ok: true, record };
}
