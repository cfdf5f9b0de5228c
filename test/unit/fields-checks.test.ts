// The field checks of the customer import: ISO countries, control characters, postal code against province,
// and the mobile-number shortcut, which must agree with libphonenumber on every prefix.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import {
  cleanAddressLine,
  cleanLine,
  parseCountry,
  parsePhone,
  postalProvinceWarning,
} from '../../pipeline/customers/fields.ts';
import { ISO_COUNTRIES } from '../../pipeline/customers/countries.ts';

describe('field checks', () => {
  it('accepts exactly the 249 ISO 3166-1 alpha-2 codes, and country names', () => {
    expect(ISO_COUNTRIES.size).toBe(249);
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const code of ISO_COUNTRIES) expect(names.of(code), code).not.toBe(code);
    expect(parseCountry('cn')).toBe('CN');
    expect(parseCountry('UK')).toBe('GB');
    expect(parseCountry('中国')).toBe('CN');
    for (const bad of ['XX', 'ZZ', 'EU', 'QQ', 'AA'])
      expect(() => parseCountry(bad)).toThrow(/not an ISO 3166-1 country code/);
  });

  it('refuses control characters in one-line text, and all but LF in address lines', () => {
    expect(cleanLine(' 王晓明 ', 100)).toBe('王晓明');
    expect(() => cleanLine('王\n晓明', 100)).toThrow(/a line break \(LF\)/);
    expect(() => cleanLine('王\r晓明', 100)).toThrow(/a carriage return \(CR\)/);
    expect(() => cleanLine('王\u0000晓明', 100)).toThrow(/NUL/);
    expect(() => cleanLine('王\u0085', 100)).toThrow(/U\+0085/);
    expect(cleanAddressLine('人民路1号\n2栋', 300)).toBe('人民路1号\n2栋');
    expect(() => cleanAddressLine('人民路1号\r\n2栋', 300)).toThrow(/carriage return/);
    expect(() => cleanAddressLine('人民路\t1号', 300)).toThrow(/a tab/);
  });

  it('warns when a Chinese postal code belongs to another province', () => {
    expect(postalProvinceWarning('100005', '北京市', 'CN')).toBeUndefined();
    expect(postalProvinceWarning('215000', '江苏省', 'CN')).toBeUndefined();
    expect(postalProvinceWarning('530000', '广西壮族自治区', 'CN')).toBeUndefined();
    expect(postalProvinceWarning('400000', 'Chongqing', 'CN')).toBeUndefined();
    expect(postalProvinceWarning('100005', '江苏省', 'CN')).toBe(
      'postal_code "100005" is not a postal code of 江苏省 (its codes start with 21 or 22)',
    );
    expect(postalProvinceWarning('100005', 'Somewhere', 'CN')).toBeUndefined();
    expect(postalProvinceWarning('100005', '江苏省', 'US')).toBeUndefined();
  });

  it('reads mainland mobile numbers exactly as libphonenumber does, on every prefix', () => {
    let checked = 0;
    for (let p = 1300; p <= 1999; p++) {
      const prefixes =
        p === 1740 ? Array.from({ length: 100 }, (_, k) => `1740${String(k).padStart(2, '0')}`) : [String(p)];
      for (const prefix of prefixes) {
        for (const tail of ['0000000', '5555555', '9876543']) {
          const digits = (prefix + tail).slice(0, 11);
          const expected = parsePhoneNumberFromString(digits, 'CN');
          const valid = expected?.isValid() === true;
          if (valid) expect(parsePhone(digits, 'CN')).toBe(expected!.number);
          else expect(() => parsePhone(digits, 'CN'), digits).toThrow(/not a valid phone number/);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });
});
