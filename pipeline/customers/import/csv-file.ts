// Streams the records of a CSV file in any supported encoding, with bytes read for progress.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import iconv from 'iconv-lite';
import { ExitCode, UserError } from '../../../config/errors.ts';
import { CsvRecordReader, type CsvRecord } from './csv-records.ts';
import { detectFileEncoding, normaliseEncodingName, type DetectedEncoding } from './encoding.ts';

export interface CsvSource {
  path: string;
  size: number;
  encoding: DetectedEncoding;
  bytesRead(): number;
  records: AsyncGenerator<CsvRecord>;
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
  const decoded = stream.pipe(iconv.decodeStream(encoding.encoding, { stripBOM: true }));
  async function* records(): AsyncGenerator<CsvRecord> {
    const reader = new CsvRecordReader();
    for await (const chunk of decoded) yield* reader.push(chunk as string);
    yield* reader.end();
  }
  return { path, size: info.size, encoding, bytesRead: () => stream.bytesRead, records: records() };
}
