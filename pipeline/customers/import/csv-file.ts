// Streams the records of a CSV file in any supported encoding, with bytes read for progress.
// A detected UTF-8 or GBK file is decoded line by line (see LineDecoder), so a file that mixes
// the two reads correctly; an encoding named with --encoding is applied to the whole file.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import iconv from 'iconv-lite';
import { ExitCode, UserError } from '../../../config/errors.ts';
import { CsvRecordReader, type CsvRecord } from './csv-records.ts';
import {
  detectFileEncoding,
  displayEncoding,
  LineDecoder,
  normaliseEncodingName,
  type DetectedEncoding,
} from './encoding.ts';

export interface CsvSource {
  path: string;
  size: number;
  encoding: DetectedEncoding;
  /** The reader, whose `width` the caller sets once the header is known. */
  reader: CsvRecordReader;
  bytesRead(): number;
  /** The encoding as reported: `utf8`, `gbk`, or both (`utf8+gbk`) when lines of each were found. */
  encodingRead(): string;
  records: AsyncGenerator<CsvRecord>;
  /** The same records, a piece of the file's worth at a time (fewer awaits); read either this or `records`. */
  chunks: AsyncGenerator<CsvRecord[]>;
}

export async function openCsv(path: string, encodingOption?: string): Promise<CsvSource> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(
      `cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
      ExitCode.badInput,
    );
  });
  if (!info.isFile()) throw new UserError(`${path} is not a file`, ExitCode.badInput);
  const encoding: DetectedEncoding = encodingOption
    ? { encoding: normaliseEncodingName(encodingOption), detected: 'given' }
    : await detectFileEncoding(path);
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  const perLine =
    encoding.detected !== 'given' && (encoding.encoding === 'utf8' || encoding.encoding === 'gb18030')
      ? new LineDecoder(encoding.encoding)
      : undefined;
  const reader = new CsvRecordReader();
  async function* chunks(): AsyncGenerator<CsvRecord[]> {
    if (perLine) {
      for await (const chunk of stream) yield reader.push(perLine.write(chunk as Buffer));
      yield reader.push(perLine.end());
    } else {
      const decoded = stream.pipe(iconv.decodeStream(encoding.encoding, { stripBOM: true }));
      for await (const chunk of decoded) yield reader.push(chunk as string);
    }
    yield reader.end();
  }
  async function* records(): AsyncGenerator<CsvRecord> {
    for await (const chunk of chunks()) yield* chunk;
  }
  const encodingRead = () => {
    return perLine?.otherLines ? 'utf8+gbk' : displayEncoding(encoding.encoding);
  };
  return {
    path,
    size: info.size,
    encoding,
    reader,
    bytesRead: () => stream.bytesRead,
    encodingRead,
    records: records(),
    chunks: chunks(),
  };
}
