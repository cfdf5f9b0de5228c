// Parsers for the values of a customer or order record. Each returns the normalised value or
// throws FieldError with a message that names the problem; the caller adds the field and row.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { ISO_COUNTRIES, provincePostalPrefixes } from './countries.ts';

export class FieldError extends Error {}

/** A lookup in a word table by own keys only: a cell reading "constructor" is not a word. */
function lookup<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

export function hasCjk(text: string): boolean {
  return CJK.test(text);
}

export function cleanText(value: string, maxLength: number): string {
  if (value.includes('\u0000')) throw new FieldError('contains a NUL character');
  if (value.includes('\uFFFD'))
    throw new FieldError('contains bytes that are not text in this encoding (try --encoding gbk or --encoding utf8)');
  const trimmed = value.trim();
  if (trimmed.length > maxLength)
    throw new FieldError(`is ${trimmed.length} characters long; at most ${maxLength} are allowed`);
  return trimmed;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function describeControl(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code === 13) return 'a carriage return (CR)';
  if (code === 10) return 'a line break (LF)';
  if (code === 9) return 'a tab';
  return `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Text printed on one line (names, salutations): no control characters at all, line breaks included. */
export function cleanLine(value: string, maxLength: number): string {
  const v = cleanText(value, maxLength);
  const bad = CONTROL.exec(v);
  if (bad) throw new FieldError(`contains ${describeControl(bad[0])}; a name or salutation must be one line of text`);
  return v;
}

/** An address line: a line break (LF) within it is kept, as the letter prints it; any other control
 * character (CR, tab, NUL …) is refused. */
export function cleanAddressLine(value: string, maxLength: number): string {
  const v = cleanText(value, maxLength);
  const bad = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.exec(v);
  if (bad) throw new FieldError(`contains ${describeControl(bad[0])}`);
  return v;
}

// Deliberately plain: one @, no spaces, a dot in the domain, no leading/trailing dot in parts.
const EMAIL =
  /^[^\s@"(),:;<>[\\\]]+@([A-Za-z0-9\u00a1-\uffff](-*[A-Za-z0-9\u00a1-\uffff])*\.)+[A-Za-z\u00a1-\uffff]{2,}$/;

export function parseEmail(value: string): string {
  const v = cleanText(value, 254);
  const [local = '', domain = ''] = v.split('@');
  if (!EMAIL.test(v) || local.startsWith('.') || local.endsWith('.') || local.includes('..') || local.length > 64) {
    throw new FieldError('is not a valid email address');
  }
  return `${local}@${domain.toLowerCase()}`;
}

// Validity of a mainland mobile number (11 digits, 1[3-9]…) depends only on its first digits in
// libphonenumber's metadata (CN mobile: 1(?:610\d|740[0-5])\d{6} | 1(?:[38]\d|4[57]|…)\d{8}: four
// digits decide, six after 1740), so the full check runs once per such prefix and its answer is
// reused: the same result, far cheaper. test/unit/fields.test.ts compares both on every prefix.
const CN_MOBILE = /^(?:\+86)?(1[3-9]\d{9})$/;
const mobilePrefixValid = new Map<string, boolean>();

export function parsePhone(value: string, region: string): string {
  const v = cleanText(value, 40);
  const compact = v.replace(/[ -]/g, '');
  const mobile = CN_MOBILE.exec(compact);
  if (mobile && (region === 'CN' || compact.startsWith('+86'))) {
    const digits = mobile[1]!;
    const prefix = digits.slice(0, digits.startsWith('1740') ? 6 : 4);
    let valid = mobilePrefixValid.get(prefix);
    if (valid === undefined) {
      valid = parsePhoneNumberFromString(`+86${digits}`)?.isValid() === true;
      mobilePrefixValid.set(prefix, valid);
    }
    if (!valid) throw new FieldError(`is not a valid phone number (read with default region ${region})`);
    return `+86${digits}`;
  }
  const parsed = parsePhoneNumberFromString(v, region as CountryCode);
  if (!parsed || !parsed.isValid())
    throw new FieldError(`is not a valid phone number (read with default region ${region})`);
  return parsed.number;
}

const POSTAL_CODES: Record<string, { pattern: RegExp; hint: string }> = {
  CN: { pattern: /^\d{6}$/, hint: '6 digits, e.g. 100010' },
  US: { pattern: /^\d{5}(-\d{4})?$/, hint: '5 digits or ZIP+4, e.g. 10001 or 10001-1234' },
  GB: { pattern: /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i, hint: 'a UK postcode, e.g. SW1A 1AA' },
  DE: { pattern: /^\d{5}$/, hint: '5 digits' },
  FR: { pattern: /^\d{5}$/, hint: '5 digits' },
  JP: { pattern: /^\d{3}-?\d{4}$/, hint: '7 digits, e.g. 100-0001' },
  SG: { pattern: /^\d{6}$/, hint: '6 digits' },
  TW: { pattern: /^\d{3}(\d{2,3})?$/, hint: '3, 5 or 6 digits' },
  AU: { pattern: /^\d{4}$/, hint: '4 digits' },
  CA: { pattern: /^[A-Z]\d[A-Z] ?\d[A-Z]\d$/i, hint: 'e.g. K1A 0B1' },
};
const NO_POSTAL_CODES = new Set(['HK', 'MO']);

export function parsePostalCode(value: string, country: string): string {
  const v = cleanText(value, 12);
  if (NO_POSTAL_CODES.has(country))
    throw new FieldError(`is given, but ${country} has no postal codes; leave it empty`);
  const rule = lookup(POSTAL_CODES, country);
  if (rule) {
    if (!rule.pattern.test(v)) throw new FieldError(`is not a valid postal code for ${country} (${rule.hint})`);
    return country === 'GB' || country === 'CA' ? v.toUpperCase() : v;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/.test(v)) throw new FieldError('is not a valid postal code');
  return v;
}

const COUNTRY_NAMES: Record<string, string> = {
  中国: 'CN',
  中华人民共和国: 'CN',
  china: 'CN',
  prc: 'CN',
  chn: 'CN',
  香港: 'HK',
  'hong kong': 'HK',
  hongkong: 'HK',
  澳门: 'MO',
  澳門: 'MO',
  macau: 'MO',
  macao: 'MO',
  台湾: 'TW',
  台灣: 'TW',
  taiwan: 'TW',
  新加坡: 'SG',
  singapore: 'SG',
  日本: 'JP',
  japan: 'JP',
  美国: 'US',
  usa: 'US',
  'united states': 'US',
  'united states of america': 'US',
  英国: 'GB',
  uk: 'GB',
  'united kingdom': 'GB',
  'great britain': 'GB',
  德国: 'DE',
  germany: 'DE',
  法国: 'FR',
  france: 'FR',
  澳大利亚: 'AU',
  australia: 'AU',
  加拿大: 'CA',
  canada: 'CA',
};

export function parseCountry(value: string): string {
  const v = cleanText(value, 60);
  const named = lookup(COUNTRY_NAMES, v.toLowerCase());
  if (named) return named;
  if (/^[A-Za-z]{2}$/.test(v)) {
    const code = v.toUpperCase();
    if (ISO_COUNTRIES.has(code)) return code;
    throw new FieldError('is not an ISO 3166-1 country code (such as CN, HK, US or GB)');
  }
  throw new FieldError('is not a country: use a two-letter ISO code such as CN, HK, US or GB');
}

const COUNTRY_TIMEZONES: Record<string, string> = {
  CN: 'Asia/Shanghai',
  HK: 'Asia/Hong_Kong',
  MO: 'Asia/Macau',
  TW: 'Asia/Taipei',
  SG: 'Asia/Singapore',
  JP: 'Asia/Tokyo',
  GB: 'Europe/London',
  US: 'America/New_York',
  DE: 'Europe/Berlin',
  FR: 'Europe/Paris',
  AU: 'Australia/Sydney',
  CA: 'America/Toronto',
};

export function defaultTimezone(country: string): string {
  return lookup(COUNTRY_TIMEZONES, country) ?? 'UTC';
}

export function parseTimezone(value: string): string {
  const v = cleanText(value, 64);
  // Abbreviations are ambiguous (CST is China Standard Time in Chinese data, US Central in ICU).
  if (/^[A-Za-z]{2,5}$/.test(v) && v.toUpperCase() !== 'UTC' && v.toUpperCase() !== 'GMT') {
    throw new FieldError('is an abbreviation, which is ambiguous; use an IANA time zone such as Asia/Shanghai');
  }
  try {
    return new Intl.DateTimeFormat('en', { timeZone: v }).resolvedOptions().timeZone;
  } catch {
    throw new FieldError('is not an IANA time zone (e.g. Asia/Shanghai, Europe/London)');
  }
}

export function parseLocale(value: string): string {
  const v = cleanText(value, 35).replace(/_/g, '-');
  try {
    return Intl.getCanonicalLocales(v)[0]!;
  } catch {
    throw new FieldError('is not a locale (e.g. zh-CN, en-GB)');
  }
}

export function defaultLocale(fullName: string, country: string): string {
  if (!hasCjk(fullName)) return 'en';
  return country === 'HK' || country === 'MO' ? 'zh-HK' : country === 'TW' ? 'zh-TW' : 'zh-CN';
}

const GENDERS: Record<string, 'female' | 'male' | 'other' | 'unknown'> = {
  f: 'female',
  female: 'female',
  woman: 'female',
  w: 'female',
  女: 'female',
  女士: 'female',
  ms: 'female',
  mrs: 'female',
  m: 'male',
  male: 'male',
  man: 'male',
  男: 'male',
  先生: 'male',
  mr: 'male',
  other: 'other',
  x: 'other',
  其他: 'other',
  unknown: 'unknown',
  u: 'unknown',
  未知: 'unknown',
};

export function parseGender(value: string): 'female' | 'male' | 'other' | 'unknown' {
  const v = cleanText(value, 20).toLowerCase().replace(/\.$/, '');
  const gender = lookup(GENDERS, v);
  if (!gender) throw new FieldError('is not a gender: use female/male/other/unknown (or F/M, 女/男)');
  return gender;
}

const CONSENT: Record<string, 'granted' | 'denied'> = {
  granted: 'granted',
  yes: 'granted',
  y: 'granted',
  true: 'granted',
  '1': 'granted',
  opt_in: 'granted',
  'opt-in': 'granted',
  是: 'granted',
  同意: 'granted',
  denied: 'denied',
  no: 'denied',
  n: 'denied',
  false: 'denied',
  '0': 'denied',
  opt_out: 'denied',
  'opt-out': 'denied',
  否: 'denied',
  拒绝: 'denied',
  不同意: 'denied',
};

export function parseConsent(value: string): 'granted' | 'denied' {
  const consent = lookup(CONSENT, cleanText(value, 20).toLowerCase());
  if (!consent) throw new FieldError('is not a consent value: use yes/no (or granted/denied, 1/0, 是/否)');
  return consent;
}

const DATE_FORMS = [
  /^(\d{4})-(\d{1,2})-(\d{1,2})$/,
  /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/,
  /^(\d{4})\.(\d{1,2})\.(\d{1,2})$/,
  /^(\d{4})(\d{2})(\d{2})$/,
  /^(\d{4})年(\d{1,2})月(\d{1,2})日?$/,
];

function calendarDate(y: number, m: number, d: number): string {
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    throw new FieldError('is not a real calendar date');
  }
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** A calendar date, as YYYY-MM-DD. */
export function parseDate(value: string, opts: { notAfter?: string; notBefore?: string } = {}): string {
  const v = cleanText(value, 20);
  for (const form of DATE_FORMS) {
    const m = form.exec(v);
    if (!m) continue;
    const iso = calendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
    if (opts.notBefore && iso < opts.notBefore) throw new FieldError(`is before ${opts.notBefore}`);
    if (opts.notAfter && iso > opts.notAfter) throw new FieldError(`is after ${opts.notAfter}`);
    return iso;
  }
  throw new FieldError('is not a date: use YYYY-MM-DD (also YYYY/MM/DD, YYYYMMDD or YYYY年MM月DD日)');
}

const DATETIME =
  /^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** A point in time. Without an offset it is local time in the import's time zone (applied in SQL). */
export function parseDateTime(value: string): string {
  const v = cleanText(value, 40);
  const m = DATETIME.exec(v);
  if (!m) throw new FieldError('is not a date-time: use YYYY-MM-DD HH:MM[:SS] with an optional offset such as +08:00');
  const [y, mo, d] = m[1]!.split(/[-/.]/).map(Number);
  const date = calendarDate(y!, mo!, d!);
  const hh = Number(m[2] ?? 0);
  const mm = Number(m[3] ?? 0);
  const ss = Number(m[4] ?? 0);
  if (hh > 23 || mm > 59 || ss > 59) throw new FieldError('has a time of day that does not exist');
  const time = `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}${m[5] ?? ''}`;
  const offset = m[6] ? (m[6].toUpperCase() === 'Z' ? 'Z' : m[6].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : '';
  return `${date}T${time}${offset}`;
}

/** A decimal number as text (exact: money never passes through floating point). */
export function parseDecimal(
  value: string,
  opts: { allowNegative?: boolean; maxScale?: number; maxIntegerDigits?: number } = {},
): string {
  let v = cleanText(value, 40)
    .replace(/^[¥￥$€£]|^(CNY|RMB|USD|EUR|GBP|HKD)\s*/i, '')
    .replace(/\s+/g, '');
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(v)) v = v.replace(/,/g, '');
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(v);
  if (!m) throw new FieldError('is not a number');
  if (m[1] && !opts.allowNegative) throw new FieldError('must not be negative');
  if (opts.maxScale !== undefined && (m[3]?.length ?? 0) > opts.maxScale)
    throw new FieldError(`has more than ${opts.maxScale} decimal places`);
  const whole = m[2]!.replace(/^0+(?=\d)/, '');
  if (whole.length > (opts.maxIntegerDigits ?? 15))
    throw new FieldError(`is too large (at most ${opts.maxIntegerDigits ?? 15} digits before the decimal point)`);
  return `${m[1]}${whole}${m[3] ? `.${m[3]}` : ''}`;
}

export function parseBoolean(value: string): boolean {
  return parseConsent(value) === 'granted';
}

export function parseCurrency(value: string): string {
  const v = cleanText(value, 3).toUpperCase();
  if (v === 'RMB') return 'CNY';
  if (!/^[A-Z]{3}$/.test(v)) throw new FieldError('is not an ISO 4217 currency code (e.g. CNY, USD)');
  return v;
}

/** A warning (not a refusal: people move) when a Chinese postal code's first two digits belong to
 * another province than the one given; undefined when they agree or cannot be compared. */
export function postalProvinceWarning(postalCode: string, province: string, country: string): string | undefined {
  if (country !== 'CN' || !/^\d{6}$/.test(postalCode)) return undefined;
  const prefixes = provincePostalPrefixes(province);
  if (!prefixes || prefixes.includes(postalCode.slice(0, 2))) return undefined;
  return `postal_code ${JSON.stringify(postalCode)} is not a postal code of ${province} (its codes start with ${prefixes.join(' or ')})`;
}
