// The reader costs a bad row only itself: line ends of every kind, stray quotes, oversized values,
// and files that mix UTF-8 and GBK lines.
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { CsvRecordReader, type CsvRecord } from '../../pipeline/customers/import/csv-records.ts';
import { LineDecoder, detectEncoding } from '../../pipeline/customers/import/encoding.ts';

function readAll(text: string, chunk: number, opts: { width?: number; maxFieldChars?: number } = {}): CsvRecord[] {
  const reader = new CsvRecordReader(opts);
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunk) out.push(...reader.push(text.slice(i, i + chunk)));
  out.push(...reader.end());
  return out;
}

describe('CSV reader recovery', () => {
  it('reads LF, CRLF and lone-CR line ends, mixed, in any chunking', () => {
    const text = 'a,b\rc,d\r\ne,"f\rg"\nh,i\r';
    for (const chunk of [1, 2, 3, 5, 100]) {
      const records = readAll(text, chunk);
      expect(records.map((r) => r.fields)).toEqual([
        ['a', 'b'],
        ['c', 'd'],
        ['e', 'f\rg'],
        ['h', 'i'],
      ]);
      expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
    }
  });

  it('a quote that runs over a line end into a record of the wrong width rejects only its first line', () => {
    const text = '"1","a","b\n"2","c","d"\n"3","e","f"\n';
    for (const chunk of [1, 4, 100]) {
      const records = readAll(text, chunk, { width: 3 });
      expect(records.map((r) => [r.line, r.fields, r.error !== undefined])).toEqual([
        [1, [], true],
        [2, ['2', 'c', 'd'], false],
        [3, ['3', 'e', 'f'], false],
      ]);
      expect(records[0]!.raw).toBe('"1","a","b');
    }
  });

  it('keeps a multi-line quoted value that makes a sound record', () => {
    const records = readAll('"1","line one\nline two","x"\n"2","y","z"\n', 3, { width: 3 });
    expect(records.map((r) => [r.line, r.fields])).toEqual([
      [1, ['1', 'line one\nline two', 'x']],
      [3, ['2', 'y', 'z']],
    ]);
  });

  it('rejects a value over the limit with its own line, quoted or not, and keeps the neighbours', () => {
    const long = 'x'.repeat(500);
    const text = `1,a\n2,"${long}"\n3,${long}\n4,b\n`;
    for (const chunk of [7, 64, 10_000]) {
      const records = readAll(text, chunk, { maxFieldChars: 100, width: 2 });
      expect(records.map((r) => [r.line, r.fields[0] ?? null, r.error?.slice(0, 40) ?? null])).toEqual([
        [1, '1', null],
        [2, null, 'column 2: a value longer than 100 charac'],
        [3, null, 'column 2: a value longer than 100 charac'],
        [4, '4', null],
      ]);
    }
  });

  it('decodes each line of a mixed UTF-8 and GBK file in its own encoding', () => {
    const utf8 = Buffer.from('客户编号,姓名\nC1,王晓明\n', 'utf8');
    const gbk = iconv.encode('C2,李娜\r\nC3,张伟\n', 'gbk');
    const bytes = Buffer.concat([utf8, gbk, Buffer.from('C4,赵六\n', 'utf8')]);
    expect(detectEncoding(bytes, true).encoding).toBe('utf8');
    for (const chunk of [1, 3, 1000]) {
      const decoder = new LineDecoder('utf8');
      let text = '';
      for (let i = 0; i < bytes.length; i += chunk) text += decoder.write(bytes.subarray(i, i + chunk));
      text += decoder.end();
      expect(text).toBe('客户编号,姓名\nC1,王晓明\nC2,李娜\r\nC3,张伟\nC4,赵六\n');
      expect([decoder.otherLines, decoder.firstOtherLine]).toEqual([2, 3]);
    }
    // A GBK file keeps short lines in GBK even when their bytes happen to be valid UTF-8.
    const gbkFile = new LineDecoder('gb18030');
    expect(gbkFile.write(iconv.encode('C1,王晓明\n', 'gbk')) + gbkFile.end()).toBe('C1,王晓明\n');
  });
});
