// Text encoding of an import file: a BOM decides; otherwise valid UTF-8 is UTF-8 and anything else
// is taken as GBK (decoded as GB18030, its superset), the usual export of Chinese spreadsheets.
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { ExitCode, UserError } from '../../../config/errors.ts';

export type DetectedEncoding = { encoding: string; detected: 'bom' | 'utf8-valid' | 'fallback-gbk' | 'given' };

const SAMPLE_BYTES = 256 * 1024;

/** Drops a trailing, incomplete UTF-8 sequence so that a cut sample still validates. */
function trimPartialUtf8(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  let back = 0;
  while (end > 0 && back < 4 && (bytes[end - 1]! & 0xc0) === 0x80) {
    end--;
    back++;
  }
  if (end > 0 && bytes[end - 1]! >= 0xc0) end--;
  return bytes.subarray(0, end);
}

export function detectEncoding(sample: Uint8Array, complete: boolean): DetectedEncoding {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return { encoding: 'utf8', detected: 'bom' };
  if (sample[0] === 0xff && sample[1] === 0xfe) return { encoding: 'utf16le', detected: 'bom' };
  if (sample[0] === 0xfe && sample[1] === 0xff) return { encoding: 'utf16be', detected: 'bom' };
  const whole = complete ? sample : trimPartialUtf8(sample);
  if (isUtf8(whole)) return { encoding: 'utf8', detected: 'utf8-valid' };
  // Mostly UTF-8 with some GBK lines (two exports concatenated): UTF-8 is the file's encoding
  // and LineDecoder reads the other lines as GBK.
  let utf8Lines = 0;
  let otherLines = 0;
  for (let pos = 0; pos < whole.length;) {
    let end = pos;
    while (end < whole.length && whole[end] !== 0x0a && whole[end] !== 0x0d) end++;
    const line = whole.subarray(pos, end);
    if (line.some((b) => b >= 0x80)) {
      if (isUtf8(line)) utf8Lines++;
      else otherLines++;
    }
    pos = end + 1;
  }
  if (utf8Lines > otherLines) return { encoding: 'utf8', detected: 'utf8-valid' };
  return { encoding: 'gb18030', detected: 'fallback-gbk' };
}

export function normaliseEncodingName(name: string): string {
  const lower = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  // GBK files are decoded as GB18030, which contains GBK and adds the characters GBK lacks.
  if (lower === 'gbk' || lower === 'gb2312' || lower === 'cp936' || lower === 'gb18030') return 'gb18030';
  if (lower === 'utf8' || lower === 'utf8bom') return 'utf8';
  if (!iconv.encodingExists(lower)) {
    throw new UserError(
      `--encoding ${name} is not an encoding Mailroom can read; use utf8, gbk, gb18030, big5, utf16le, latin1 …`,
      ExitCode.usage,
    );
  }
  return lower;
}

export async function detectFileEncoding(path: string): Promise<DetectedEncoding> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0);
    return detectEncoding(buffer.subarray(0, bytesRead), bytesRead < SAMPLE_BYTES);
  } finally {
    await handle.close();
  }
}

export function displayEncoding(encoding: string): string {
  return encoding === 'gb18030' ? 'gbk' : encoding;
}

/** Valid UTF-8 that reads as Chinese (two or more CJK characters, no two-byte sequences): a line
 * in a GBK file is taken as UTF-8 only on that evidence, since short GBK text can be valid UTF-8. */
function readsAsUtf8Chinese(line: Uint8Array): boolean {
  let cjk = 0;
  for (let k = 0; k < line.length; k++) {
    const b = line[k]!;
    if (b < 0x80) continue;
    if (b >= 0xc2 && b <= 0xdf) return false;
    if (b >= 0xe3 && b <= 0xe9) cjk++;
  }
  return cjk >= 2 && isUtf8(line);
}

/**
 * Decodes a UTF-8 or GBK file line by line: each physical line (ended by LF, CR or CRLF) is read
 * in the file's detected encoding unless it is not valid there and is valid in the other one, so
 * that two exports concatenated (UTF-8 and GBK) read correctly. Line ends are ASCII in both
 * encodings and never occur inside a GBK character, so lines can be cut before decoding.
 */
const LONG_LINE_BYTES = 1024 * 1024;

export class LineDecoder {
  private tail: Buffer = Buffer.alloc(0);
  private started = false;
  private line = 1;
  /** Lines read in the other encoding, and the first of them. */
  otherLines = 0;
  firstOtherLine: number | undefined;

  constructor(readonly primary: 'utf8' | 'gb18030') {}

  write(chunk: Buffer): string {
    const pending = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    // Cut after the last line end; a CR at the very end may be half of a CRLF, so it waits.
    let cut = pending.length - 1;
    if (pending[cut] === 0x0d) cut--;
    while (cut >= 0 && pending[cut] !== 0x0a && pending[cut] !== 0x0d) cut--;
    if (cut === -1) {
      if (pending.length <= LONG_LINE_BYTES) {
        this.tail = Buffer.from(pending);
        return '';
      }
      // A very long line (a huge value, a quote never closed) is decoded in pieces, cut after a
      // byte below 0x40, which is never part of a UTF-8 or GBK multi-byte character.
      let safe = pending.length - 1;
      while (safe > 0 && pending[safe]! >= 0x40) safe--;
      cut = safe > 0 ? safe : pending.length - 1;
    }
    this.tail = Buffer.from(pending.subarray(cut + 1));
    return this.decode(pending.subarray(0, cut + 1));
  }

  end(): string {
    const rest = this.tail;
    this.tail = Buffer.alloc(0);
    return rest.length ? this.decode(rest) : '';
  }

  private decode(bytes: Buffer): string {
    let text: string;
    if (this.primary === 'utf8' && isUtf8(bytes)) {
      text = bytes.toString('utf8');
      this.line += countLineBreaks(bytes);
    } else {
      const parts: string[] = [];
      let runStart = 0;
      let runUtf8 = true;
      let pos = 0;
      while (pos < bytes.length) {
        let end = pos;
        while (end < bytes.length && bytes[end] !== 0x0a && bytes[end] !== 0x0d) end++;
        if (end < bytes.length) end += bytes[end] === 0x0d && bytes[end + 1] === 0x0a ? 2 : 1;
        const line = bytes.subarray(pos, end);
        const utf8 = this.primary === 'utf8' ? isUtf8(line) : readsAsUtf8Chinese(line);
        if ((this.primary === 'utf8') !== utf8) {
          this.otherLines++;
          this.firstOtherLine ??= this.line;
        }
        if (utf8 !== runUtf8 && pos > runStart) {
          parts.push(decodeRun(bytes.subarray(runStart, pos), runUtf8));
          runStart = pos;
        }
        runUtf8 = utf8;
        if (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d) this.line++;
        pos = end;
      }
      if (pos > runStart) parts.push(decodeRun(bytes.subarray(runStart, pos), runUtf8));
      text = parts.join('');
    }
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
  }
}

function decodeRun(bytes: Buffer, utf8: boolean): string {
  return utf8 ? bytes.toString('utf8') : iconv.decode(bytes, 'gb18030');
}

function countLineBreaks(bytes: Buffer): number {
  let n = 0;
  for (let k = bytes.indexOf(0x0a); k !== -1; k = bytes.indexOf(0x0a, k + 1)) n++;
  // Lone CRs (old Mac line ends) are rare; count them only when there are any CRs at all.
  if (bytes.includes(0x0d)) {
    for (let k = bytes.indexOf(0x0d); k !== -1; k = bytes.indexOf(0x0d, k + 1)) if (bytes[k + 1] !== 0x0a) n++;
  }
  return n;
}
