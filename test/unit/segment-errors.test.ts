import { describe, expect, it } from 'vitest';
import { YamlSource } from '../../config/yaml-file.ts';
import { parseAudience } from '../../pipeline/audience/audience.ts';
import { builtinSegments } from '../../pipeline/audience/segments.ts';

function load(text: string) {
  const source = YamlSource.parse('campaign.yaml', text);
  const registry = builtinSegments().addFrom(source);
  registry.check();
  return parseAudience(source, registry);
}

const expectError = (text: string, message: string | RegExp) => expect(() => load(text)).toThrow(message);

describe('bad segment and audience files', () => {
  it('name an unknown field with its file, line and path, and list the known ones', () => {
    expectError(
      [
        'audience:',
        '  rules:',
        '    all:',
        '      - { field: city, op: "=", value: 北京市 }',
        '      - { field: salary, op: ">", value: 5 }',
      ].join('\n'),
      /^campaign\.yaml:5: audience\.rules\.all\[1\]\.field: unknown field "salary"\. Customer fields: id, external_id.*any other attribute: attributes\.NAME$/,
    );
  });

  it('refuse a value of the wrong type', () => {
    expectError(
      ['audience:', '  rules: { field: annual_spend, op: ">=", value: lots }'].join('\n'),
      'campaign.yaml:2: audience.rules.value: annual_spend is a number field; "lots" is not a number',
    );
    expectError(
      ['audience:', '  rules:', '    field: birthday', '    op: "<"', '    value: 1990-13-01'].join('\n'),
      'campaign.yaml:5: audience.rules.value: birthday is a date field; "1990-13-01" is not a date (YYYY-MM-DD)',
    );
  });

  it('refuse an unknown operator, and ordering operators on text', () => {
    expectError(
      ['audience:', '  rules: { field: city, op: "~=", value: x }'].join('\n'),
      /^campaign\.yaml:2: audience\.rules\.op: op must be one of '=', '!=',/,
    );
    expectError(
      ['audience:', '  rules:', '    any:', '      - { field: city, op: ">", value: x }'].join('\n'),
      "campaign.yaml:4: audience.rules.any[0].op: '>' compares numbers or dates; city is a text field",
    );
    expectError(
      ['audience:', '  rules: { field: city, op: in, value: 北京市 }'].join('\n'),
      `campaign.yaml:2: audience.rules.value: 'in' takes a list, not "北京市"`,
    );
  });

  it('refuse unknown rule kinds and malformed rule arguments', () => {
    expectError(
      ['audience:', '  rules:', '    all:', '      - { birthday: tomorrow }'].join('\n'),
      'campaign.yaml:4: audience.rules.all[0].birthday: birthday takes today, this_week or this_month, not "tomorrow"',
    );
    expectError(
      ['audience:', '  rules: { wealthy: true }'].join('\n'),
      /^campaign\.yaml:2: audience\.rules: unknown rule; a rule starts with one of: all, any, not, field/,
    );
    expectError(
      ['audience:', '  rules: { orders: { metric: average, op: ">", value: 3 } }'].join('\n'),
      /campaign\.yaml:2: audience\.rules\.orders\.metric: metric must be one of count, sum, max_amount, days_since_last/,
    );
    expectError(
      ['audience:', '  rules: { field: city, op: "=", value: "a\\0b" }'].join('\n'),
      /contains a NUL character/,
    );
    expectError(
      ['audience:', '  rules: { field: birthday, op: "=", value: 2024-02-30 }'].join('\n'),
      'campaign.yaml:2: audience.rules.value: birthday is a date field; "2024-02-30" is not a date (YYYY-MM-DD)',
    );
    expectError(
      ['audience:', '  rules: { field: constructor, op: "=", value: x }'].join('\n'),
      /audience\.rules\.field: unknown field "constructor"/,
    );
    expectError(
      ['audience:', '  rules: { last_order: { within_days: 30, more_than_days_ago: 60 } }'].join('\n'),
      /more_than_days_ago \(60\) must be smaller than within_days \(30\)/,
    );
  });

  it('name an unknown segment and a cycle between segments', () => {
    expectError(
      ['audience:', '  segment: platinum-plus'].join('\n'),
      /^campaign\.yaml:2: audience\.segment: unknown segment "platinum-plus"\. Known: tier-diamond/,
    );
    expectError(
      [
        'segments:',
        '  a:',
        '    rules: { segment: b }',
        '  b:',
        '    rules: { not: { segment: a } }',
        'audience: { segment: a }',
      ].join('\n'),
      'campaign.yaml:5: segments refer to each other in a cycle: a → b → a',
    );
    expectError(
      ['segments:', '  a:', '    rules: { segment: nowhere }', 'audience: { segment: a }'].join('\n'),
      /^campaign\.yaml:3: segment a refers to unknown segment "nowhere"/,
    );
  });

  it('name an unknown segment inside audience.rules with its line and the known segments', () => {
    expectError(
      [
        'audience:',
        '  rules:',
        '    all:',
        '      - { field: city, op: "=", value: 北京市 }',
        '      - not: { segment: vips }',
      ].join('\n'),
      /^campaign\.yaml:5: audience\.rules\.all\[1\]\.not\.segment: unknown segment "vips"\. Known: .*\btier-vip\b.*\bkey-accounts\b/,
    );
    expectError(
      ['audience:', '  rules: { segment: vips }'].join('\n'),
      /^campaign\.yaml:2: audience\.rules\.segment: unknown segment "vips"\. Known: /,
    );
    expectError(
      [
        'segments:',
        '  best: { rules: { field: city, op: "=", value: x }, top: { n: 5, by: annual_spend } }',
        'audience:',
        '  rules: { any: [{ segment: best }] }',
      ].join('\n'),
      'campaign.yaml:4: audience.rules.any[0].segment: segment best ranks or samples; only segments defined by rules alone can be used inside rules',
    );
  });

  it('check bands, holdout and variants', () => {
    expectError(
      [
        'audience:',
        '  segment: key-accounts',
        '  top:',
        '    n: 100',
        '    by: annual_spend',
        '    bands:',
        '      - { name: A, ranks: 1-60 }',
        '      - { name: B, ranks: 50-100 }',
      ].join('\n'),
      'campaign.yaml:8: audience.top.bands[1].ranks: ranks 50-100 overlap band A (1-60)',
    );
    expectError(
      [
        'audience:',
        '  segment: key-accounts',
        '  top: { n: 10, by: annual_spend, bands: [{ name: A, ranks: 1-60 }] }',
      ].join('\n'),
      /ranks 1-60 go past top n \(10\)/,
    );
    expectError(
      ['audience:', '  segment: key-accounts', '  holdout: 80'].join('\n'),
      /^campaign\.yaml:3: audience\.holdout: Too big: expected number to be <=50/,
    );
    expectError(
      ['audience:', '  segment: key-accounts', '  channel: fax'].join('\n'),
      /^campaign\.yaml:3: audience\.channel: Invalid option: expected one of "mail"\|"email"\|"sms"/,
    );
    expectError(
      ['audience:', '  segment: key-accounts', '  channel: email', '  one_per_household: true'].join('\n'),
      'campaign.yaml:4: audience.one_per_household: one per household applies to mail only',
    );
  });

  it('accept a well-formed audience', () => {
    const audience = load(
      [
        'audience:',
        '  segment: key-accounts',
        '  top: { n: 160, by: financial_assets, bands: [{ name: A, ranks: 1-60 }, { name: B, ranks: 61-160 }] }',
        '  holdout: 10',
        '  variants: { x: 1, y: 3 }',
      ].join('\n'),
    );
    expect(audience.segment.top).toEqual({
      n: 160,
      by: 'financial_assets',
      order: 'desc',
      bands: [
        { name: 'A', from: 1, to: 60 },
        { name: 'B', from: 61, to: 160 },
      ],
    });
    expect(audience.variants).toEqual([
      { name: 'x', weight: 1 },
      { name: 'y', weight: 3 },
    ]);
  });
});
