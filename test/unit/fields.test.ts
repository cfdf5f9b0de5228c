import { describe, expect, it } from 'vitest';
import {
  FieldError,
  cleanText,
  parseConsent,
  parseCountry,
  parseDate,
  parseDateTime,
  parseDecimal,
  parseEmail,
  parseGender,
  parsePhone,
  parsePostalCode,
  parseTimezone,
} from '../../pipeline/customers/fields.ts';

const fails = (fn: () => unknown, message: RegExp) => expect(fn).toThrow(message);

describe('field parsers', () => {
  it('normalises phone numbers to E.164 with the default region, and refuses impossible ones', () => {
    expect(parsePhone('139 1234 5678', 'CN')).toBe('+8613912345678');
    expect(parsePhone('+86 139-1234-5678', 'GB')).toBe('+8613912345678');
    expect(parsePhone('07911 123456', 'GB')).toBe('+447911123456');
    fails(() => parsePhone('139123456781', 'CN'), /not a valid phone number \(read with default region CN\)/);
    fails(() => parsePhone('hello', 'CN'), /not a valid phone number/);
  });

  it('accepts ordinary email addresses and lower-cases only the domain', () => {
    expect(parseEmail(' Wang.XM@Example.COM ')).toBe('Wang.XM@example.com');
    for (const bad of [
      'wang@',
      'wang@example',
      'a b@example.com',
      'x@@example.com',
      '.x@example.com',
      'x..y@example.com',
    ]) {
      fails(() => parseEmail(bad), /not a valid email address/);
    }
  });

  it('checks postal codes by country: 6 digits in China, none in Hong Kong', () => {
    expect(parsePostalCode('100010', 'CN')).toBe('100010');
    fails(() => parsePostalCode('10001', 'CN'), /for CN \(6 digits/);
    expect(parsePostalCode('sw1a 1aa', 'GB')).toBe('SW1A 1AA');
    expect(parsePostalCode('10001-1234', 'US')).toBe('10001-1234');
    fails(() => parsePostalCode('999077', 'HK'), /HK has no postal codes/);
  });

  it('reads dates in the forms Chinese spreadsheets use and refuses non-dates', () => {
    expect(parseDate('1980-5-2')).toBe('1980-05-02');
    expect(parseDate('1980/05/02')).toBe('1980-05-02');
    expect(parseDate('19800502')).toBe('1980-05-02');
    expect(parseDate('1980年5月2日')).toBe('1980-05-02');
    fails(() => parseDate('1990-02-30'), /not a real calendar date/);
    fails(() => parseDate('02/05/1980'), /not a date/);
    fails(() => parseDate('2999-01-01', { notAfter: '2026-01-01' }), /is after 2026-01-01/);
  });

  it('reads date-times with and without offsets', () => {
    expect(parseDateTime('2026-03-01 09:30')).toBe('2026-03-01T09:30:00');
    expect(parseDateTime('2026-03-01T09:30:15+0800')).toBe('2026-03-01T09:30:15+08:00');
    expect(parseDateTime('2026-03-01T01:30:15Z')).toBe('2026-03-01T01:30:15Z');
    fails(() => parseDateTime('2026-03-01 25:00'), /time of day that does not exist/);
  });

  it('keeps decimals exact as text and understands thousands separators and currency marks', () => {
    expect(parseDecimal('¥1,234,567.89')).toBe('1234567.89');
    expect(parseDecimal('0.10')).toBe('0.10');
    expect(parseDecimal('-12.5', { allowNegative: true })).toBe('-12.5');
    fails(() => parseDecimal('-12.5'), /must not be negative/);
    fails(() => parseDecimal('12.345', { maxScale: 2 }), /more than 2 decimal places/);
    fails(() => parseDecimal('1.2.3'), /not a number/);
    fails(() => parseDecimal('1e5'), /not a number/);
  });

  it('maps consent, gender and country words in English and Chinese', () => {
    expect(['是', 'yes', 'Y', '1', 'granted'].map(parseConsent)).toEqual(Array(5).fill('granted'));
    expect(['否', 'no', '0', 'denied', '拒绝'].map(parseConsent)).toEqual(Array(5).fill('denied'));
    fails(() => parseConsent('maybe'), /not a consent value/);
    expect(['女', 'F', 'female', 'Ms.'].map(parseGender)).toEqual(Array(4).fill('female'));
    expect(['中国', 'china', 'cn', '香港', 'UK'].map(parseCountry)).toEqual(['CN', 'CN', 'CN', 'HK', 'GB']);
    expect(parseTimezone('Asia/Shanghai')).toBe('Asia/Shanghai');
    fails(() => parseTimezone('Mars/Olympus'), /not an IANA time zone/);
  });

  it('does not take object-prototype names for words, and refuses ambiguous zone abbreviations', () => {
    fails(() => parseConsent('constructor'), /not a consent value/);
    fails(() => parseCountry('__proto__'), /not a country/);
    fails(() => parseGender('constructor'), /not a gender/);
    fails(() => parseTimezone('CST'), /abbreviation, which is ambiguous/);
    expect(parseTimezone('UTC')).toBe('UTC');
    fails(() => parseDecimal('1234567890123', { maxIntegerDigits: 12 }), /too large \(at most 12 digits/);
  });

  it('refuses NUL characters, undecodable bytes and over-long values', () => {
    fails(() => cleanText('a\u0000b', 10), /NUL/);
    fails(() => cleanText('a\uFFFDb', 10), /not text in this encoding/);
    fails(() => cleanText('x'.repeat(11), 10), /11 characters long; at most 10/);
    expect(() => cleanText('x'.repeat(11), 10)).toThrow(FieldError);
  });
});
