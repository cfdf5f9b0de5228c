import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { detectEncoding, normaliseEncodingName } from '../../pipeline/customers/import/encoding.ts';

const text = '客户编号,姓名\nC001,王晓明\n';

describe('encoding detection', () => {
  it('recognises UTF-8, UTF-8 with BOM, UTF-16 and GBK', () => {
    expect(detectEncoding(Buffer.from(text, 'utf8'), true)).toEqual({ encoding: 'utf8', detected: 'utf8-valid' });
    expect(detectEncoding(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), true).detected).toBe(
      'bom',
    );
    expect(detectEncoding(iconv.encode(text, 'utf16le', { addBOM: true }), true).encoding).toBe('utf16le');
    expect(detectEncoding(iconv.encode(text, 'gbk'), true)).toEqual({ encoding: 'gb18030', detected: 'fallback-gbk' });
  });

  it('does not mistake a UTF-8 sample cut inside a character for GBK', () => {
    const bytes = Buffer.from('王晓明王晓明', 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(detectEncoding(bytes.subarray(0, cut), false).encoding).toBe('utf8');
    }
  });

  it('accepts common names for encodings and refuses unknown ones', () => {
    expect(normaliseEncodingName('GBK')).toBe('gb18030');
    expect(normaliseEncodingName('utf-8')).toBe('utf8');
    expect(() => normaliseEncodingName('klingon')).toThrow(/--encoding klingon is not an encoding/);
  });
});
