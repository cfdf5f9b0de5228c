import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvRecordReader, type CsvRecord } from '../../pipeline/customers/import/csv-records.ts';

function readAll(text: string, chunk = text.length || 1): CsvRecord[] {
  const reader = new CsvRecordReader();
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunk) out.push(...reader.push(text.slice(i, i + chunk)));
  out.push(...reader.end());
  return out;
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) || field === '' ? `"${field.replaceAll('"', '""')}"` : field;
}

describe('CSV record reader', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and counts lines', () => {
    const records = readAll('a,b\r\n"x, y","say ""hi"""\n"two\nlines",z\nlast,row');
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['two\nlines', 'z'],
      ['last', 'row'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
    expect(records.every((r) => !r.error)).toBe(true);
  });

  it('turns text after a closing quote into a record error and keeps reading', () => {
    const records = readAll('1,"5"x,6\n7,8,9\n');
    expect(records[0]!.error).toMatch(/column 2: text "x" after a closing quote/);
    expect(records[0]!.raw).toBe('1,"5"x,6');
    expect(records[1]).toEqual({ line: 2, fields: ['7', '8', '9'], raw: '7,8,9' });
  });

  it('rejects only the line of an unterminated quote and resumes on the next line', () => {
    const records = readAll('1,"open\n2,b\n3,c', 4);
    // The quote never closes, so the whole rest of the file is suspect only at end of input.
    expect(records[0]).toMatchObject({ line: 1, error: expect.stringMatching(/never closed/), raw: '1,"open' });
    expect(records.slice(1).map((r) => r.fields)).toEqual([
      ['2', 'b'],
      ['3', 'c'],
    ]);
  });

  it('skips blank lines but keeps their line numbers in the count', () => {
    const records = readAll('a\n\n\nb\n');
    expect(records.map((r) => [r.line, r.fields[0]])).toEqual([
      [1, 'a'],
      [4, 'b'],
    ]);
  });

  it('gives the same records whatever the chunk size (property)', () => {
    const field = fc.string({
      unit: fc.constantFrom('a', 'Z', '王', '😀', ',', '"', '\n', '\r\n', ' ', ';', "'"),
      maxLength: 8,
    });
    const table = fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(table, fc.integer({ min: 1, max: 17 }), (rows, chunk) => {
        // A row of one empty or all-space field is a blank line, which the reader skips by design.
        const data = rows.map((r) => (r.length === 1 && r[0]!.trim() === '' ? ['x'] : r));
        const text = data.map((r) => r.map(quote).join(',')).join('\n');
        const records = readAll(text, chunk);
        expect(records.map((r) => r.fields)).toEqual(data);
        expect(records.every((r) => !r.error)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
