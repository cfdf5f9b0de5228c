// Text encoding of an import file: a BOM decides; otherwise valid UTF-8 is UTF-8 and anything else
// is taken as GBK (decoded as GB18030, its superset), the usual export of Chinese spreadsheets.
import { open } from 'node:fs/promises';
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
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(complete ? sample : trimPartialUtf8(sample));
    return { encoding: 'utf8', detected: 'utf8-valid' };
  } catch {
    return { encoding: 'gb18030', detected: 'fallback-gbk' };
  }
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
