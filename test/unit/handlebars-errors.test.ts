// Templates that Handlebars cannot parse are reported in a template author's terms, at the line
// of the mistake, never with the parser's token names ("Expecting 'OPEN_INVERSE_CHAIN'…").
import { describe, expect, it } from 'vitest';
import { compilePart } from '../../pipeline/render/template-source.ts';

function compileError(source: string): string {
  try {
    compilePart('templates/letter/body.hbs', source, { html: false });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the template compiled');
}

describe('Handlebars parse errors', () => {
  const cases: [string, string, string][] = [
    [
      'a block never closed',
      '尊敬的{{customer.salutation}}：\n\n{{#if offer}}\n您的礼品：{{offer}}\n',
      'templates/letter/body.hbs:3: the template does not compile: `{{#if}}` opened on line 3 is never closed: add `{{/if}}`',
    ],
    [
      'a block never closed, with an else',
      'x\n{{#each items}}\n{{this}}{{else}}none\n',
      'templates/letter/body.hbs:2: the template does not compile: `{{#each}}` opened on line 2 is never closed: add `{{/each}}`',
    ],
    [
      'an inner block never closed before the outer one ends',
      '{{#each items}}\n{{#if this}}\n{{this}}\n{{/each}}\n',
      'templates/letter/body.hbs:2: the template does not compile: `{{#if}}` opened on line 2 is never closed: add `{{/if}}` before `{{/each}}` on line 4',
    ],
    [
      'a close that does not match',
      'a\n{{#if offer}}\n{{offer}}\n{{/unless}}\n',
      'templates/letter/body.hbs:4: the template does not compile: `{{/unless}}` does not match `{{#if}}` opened on line 2: close it with `{{/if}}`',
    ],
    [
      'a close with no block',
      'a\n{{offer}}\n{{/if}}\n',
      'templates/letter/body.hbs:3: the template does not compile: `{{/if}}` closes a block that was never opened',
    ],
    [
      'a {{ without its }}',
      '尊敬的{{customer.salutation}}：\n{{#if offer}\n{{offer}}{{/if}}\n',
      'templates/letter/body.hbs:2: the template does not compile: `{{#if offer}` is never closed: each `{{` needs its `}}`',
    ],
    [
      'a {{ at the end of the file',
      'a\nb {{customer.full_name\n',
      'templates/letter/body.hbs:2: the template does not compile: `{{customer.full_name` is never closed: each `{{` needs its `}}`',
    ],
    [
      'an else outside any block',
      'a\n{{else}}\n',
      'templates/letter/body.hbs:2: the template does not compile: `{{else}}` stands outside any block',
    ],
    [
      'a comment never closed',
      'a\n{{!-- draft\nb\n',
      'templates/letter/body.hbs:2: the template does not compile: the comment `{{!--` opened here is never closed with `--}}`',
    ],
  ];
  for (const [what, source, message] of cases)
    it(`say where ${what} is`, () => {
      const got = compileError(source);
      expect(got).toBe(message);
      expect(got).not.toMatch(/Expecting|OPEN_|got '|Parse error/);
    });

  it('quote the line it cannot read when the structure is sound, without token names', () => {
    const got = compileError('a\n{{money customer.attributes.points (}}\n');
    expect(got).toMatch(
      /^templates\/letter\/body\.hbs:2: the template does not compile: Handlebars cannot read `\{\{money customer\.attributes\.points \(\}\}`/,
    );
    expect(got).not.toMatch(/Expecting|OPEN_|got '/);
  });

  it('leave sound templates alone: else chains, inverse blocks, comments, escaped braces, whitespace control', () => {
    const source = [
      '{{!-- a note with }} inside --}}{{! short note }}',
      '{{#if (eq band "A")}}x{{else if variant}}y{{else}}z{{/if}}',
      '{{^offer}}no offer{{/offer}} \\{{not a tag}}',
      '{{~#each customer.attributes~}} {{@key}} {{~/each~}}',
    ].join('\n');
    expect(() => compilePart('t.hbs', source, { html: false })).not.toThrow();
  });
});
