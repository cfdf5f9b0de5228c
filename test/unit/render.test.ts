import { describe, expect, it } from 'vitest';
import { CODE_LENGTH, purl, responseCode } from '../../pipeline/render/codes.ts';
import { buildContext, type MemberRow } from '../../pipeline/render/context.ts';
import { memberRow } from '../helpers/member-row.ts';
import { addressLines } from '../../pipeline/render/print/address.ts';
import { smsSegments } from '../../pipeline/render/sms-segments.ts';
import { proofFolder } from '../../pipeline/render/proof.ts';
import { compilePart } from '../../pipeline/render/template-source.ts';

const member = memberRow;
const campaign = { name: '财富管理月', slug: 'wealth', offers: { A: '电饭煲' } };
const ctxOf = (over: Partial<MemberRow> = {}) =>
  buildContext(
    member(over),
    campaign,
    { responseCode: 'ABC', purl: 'http://t/p/ABC', unsubscribe: 'http://t/u/ABC' },
    '2026-12-01',
  );
const render = (source: string, over: Partial<MemberRow> = {}, html = false) =>
  compilePart('t.hbs', source, { html }).render(ctxOf(over));

describe('templates', () => {
  it('greet by family name and gender in Chinese and English, falling back to the full name', () => {
    expect(render('尊敬的{{customer.salutation}}')).toBe('尊敬的王先生');
    expect(render('{{customer.salutation}}', { gender: 'female' })).toBe('王女士');
    expect(render('{{customer.salutation}}', { gender: 'unknown' })).toBe('王晓明');
    expect(
      render('Dear {{customer.salutation}}', {
        locale: 'en',
        full_name: 'Emma Wright',
        family_name: 'Wright',
        gender: 'female',
      }),
    ).toBe('Dear Ms Wright');
    expect(render('{{customer.salutation}}', { salutation: 'Dr Li' })).toBe('Dr Li');
  });

  it('format money and dates for the locale and time zone, and give the offer of the band', () => {
    expect(render('{{money customer.attributes.annual_spend}}')).toBe('¥1,234.50');
    expect(render('{{money 1234.5 "USD" locale="en-US"}}')).toBe('$1,234.50');
    expect(render('{{date customer.birthday "long"}}')).toBe('1980年5月12日');
    expect(render('{{date "2026-12-01" "long"}}', { locale: 'en-GB' })).toBe('1 December 2026');
    expect(render('{{offer}} / {{#if (eq band "A")}}A-band{{/if}} / {{default customer.attributes.points 0}}')).toBe(
      '电饭煲 / A-band / 0',
    );
  });

  it('escape customer data in HTML but not in text, letters or SMS', () => {
    const hostile = { full_name: '<script>alert("x")</script>', family_name: null };
    expect(render('<p>{{customer.full_name}}</p>', hostile, true)).toBe(
      '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>',
    );
    expect(render('{{customer.full_name}}', hostile)).toBe('<script>alert("x")</script>');
  });

  it('fail on a field the data does not have, naming file, line and the whole path', () => {
    expect(() => render('Hello\n{{#if band}}\n  {{customer.nickname}}{{/if}}')).toThrow(
      't.hbs:3: "customer.nickname" is not in the data a template gets',
    );
    expect(() => render('{{customer.attributes.shoe_size}}')).toThrow(
      't.hbs:1: "customer.attributes.shoe_size" is not in the data',
    );
    expect(() => compilePart('t.hbs', 'a\n{{#if x}\n', { html: false })).toThrow(
      /^t\.hbs:2: the template does not compile/,
    );
  });
});

describe('response codes', () => {
  it('are the same for the same campaign and customer, differ otherwise, and avoid ambiguous letters', () => {
    const a = responseCode('secret', 'wealth', 7);
    expect(a).toHaveLength(CODE_LENGTH);
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]+$/);
    expect(responseCode('secret', 'wealth', 7)).toBe(a);
    expect(responseCode('secret', 'wealth', 8)).not.toBe(a);
    expect(responseCode('other', 'wealth', 7)).not.toBe(a);
    expect(purl('https://go.example.com/', a)).toBe(`https://go.example.com/p/${a}`);
  });
});

describe('address blocks', () => {
  it('run large to small for Chinese addresses, postcode first and name last', () => {
    expect(addressLines(ctxOf().customer)).toEqual([
      '100005',
      '北京市东城区建国门内大街18号',
      '3栋1201室',
      '王晓明 先生 收',
    ]);
    expect(
      addressLines(
        ctxOf({
          country: 'HK',
          postal_code: null,
          province: null,
          city: '香港',
          district: '灣仔區',
          address_line1: '軒尼詩道148號',
          address_line2: '5樓E室',
          locale: 'zh-HK',
        }).customer,
      ),
    ).toEqual(['香港灣仔區軒尼詩道148號', '5樓E室', '王晓明 先生 收', 'Hong Kong']);
  });

  it('run name first for British and American addresses, with the country when abroad', () => {
    const gb = ctxOf({
      locale: 'en',
      full_name: 'Emma Wright',
      family_name: 'Wright',
      gender: 'female',
      country: 'GB',
      city: 'London',
      province: null,
      district: null,
      postal_code: 'SW1A 2AA',
      address_line1: '107 Park Road',
      address_line2: 'Flat 9',
    });
    expect(addressLines(gb.customer)).toEqual([
      'Ms Emma Wright',
      'Flat 9, 107 Park Road',
      'London SW1A 2AA',
      'United Kingdom',
    ]);
  });
});

describe('proof folders', () => {
  it('use the external id when it is a safe name, in any script, and never collide or leave --out', () => {
    expect(proofFolder('P-CN1', 1)).toBe('P-CN1');
    expect(proofFolder('会员001', 2)).toBe('会员001');
    expect(proofFolder('A/1', 7)).toBe('A_1-7');
    expect(proofFolder('A_1', 8)).toBe('A_1');
    expect(proofFolder('..', 9)).toBe('_-9');
  });
});

describe('SMS parts', () => {
  it('count GSM-7 at 160 / 153 per part, extension characters twice', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1, perSegment: 160 });
    expect(smsSegments('a'.repeat(161))).toMatchObject({ segments: 2, perSegment: 153 });
    expect(smsSegments('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('a'.repeat(307))).toMatchObject({ segments: 3 });
  });

  it('count Chinese and emoji as UCS-2 at 70 / 67 per part', () => {
    expect(smsSegments('您'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1, perSegment: 70 });
    expect(smsSegments('您'.repeat(71))).toMatchObject({ segments: 2, perSegment: 67 });
    expect(smsSegments('Hi 😀')).toMatchObject({ encoding: 'UCS-2', units: 5, segments: 1 });
    expect(smsSegments('您'.repeat(135))).toMatchObject({ segments: 3 });
  });
});
