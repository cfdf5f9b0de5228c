// The rejects file: every row an import refused, with its row number, line, the reasons, and the
// original values untouched. UTF-8 with a BOM so spreadsheet programs show Chinese correctly.
// The warnings file has the same form, with a `warning` column: rows imported, but worth a look.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';

export interface RejectedRow {
  row: number;
  line: number;
  reasons: string[];
  fields: string[];
  raw: string;
}

export class RejectsWriter {
  private stream: WriteStream | undefined;
  count = 0;

  constructor(
    readonly path: string,
    private readonly headers: string[],
    private readonly label: 'reason' | 'warning' = 'reason',
  ) {}

  async write(rejected: RejectedRow): Promise<void> {
    if (!this.stream) {
      this.stream = createWriteStream(this.path);
      this.stream.write('\uFEFF' + stringify([['row', 'line', this.label, ...this.headers, 'raw_record']]));
    }
    // A record that does not fit the header is kept whole in raw_record.
    const fits = rejected.fields.length === this.headers.length;
    const values = fits ? rejected.fields : this.headers.map(() => '');
    const line = stringify([
      [rejected.row, rejected.line, rejected.reasons.join('; '), ...values, fits ? '' : rejected.raw],
    ]);
    this.count++;
    if (!this.stream.write(line)) await once(this.stream, 'drain');
  }

  /** The path, or null when nothing was rejected (no file is written then). */
  async close(): Promise<string | null> {
    if (!this.stream) return null;
    this.stream.end();
    await once(this.stream, 'finish');
    return this.path;
  }
}
