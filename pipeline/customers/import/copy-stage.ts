// Streams rows through COPY … FROM STDIN into a temporary staging table on one reserved
// connection, for imports that check rows in Node and apply them with set-based statements.
// Rows are COPY text (tab-separated, one line each; see copyValue and copyLine).
import type { Sql } from '../../../db/connection.ts';

export type Reserved = Awaited<ReturnType<Sql['reserve']>>;

/** One value in COPY's text format: \N for null, backslash escapes for the characters COPY reads. */
export function copyValue(v: string | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (!/[\\\n\r\t]/.test(v)) return v;
  return v.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

/** One row of COPY text (without its line end). */
export function copyLine(values: readonly (string | null | undefined)[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i ? '\t' : '') + copyValue(values[i]);
  return line;
}

export interface StageColumn {
  name: string;
  /** A PostgreSQL type name, e.g. text, int, numeric(14, 2), jsonb. */
  type: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const TYPE = /^[a-z][a-z0-9_ ]*(\(\d+(, ?\d+)?\))?(\[\])?$/;

/**
 * A temporary table (dropped with the session, no WAL) that COPY fills a batch at a time.
 * `columns` come from code, never from a file; they are checked to be plain names and types.
 */
export class CopyStage {
  private constructor(
    readonly conn: Reserved,
    readonly table: string,
    readonly columns: readonly StageColumn[],
  ) {}

  /** Creates (or empties) the table on `conn`, which the caller has reserved and releases; `indexed`
   * columns get an index each, for set-based statements that look staged rows up by key. */
  static async create(
    conn: Reserved,
    table: string,
    columns: readonly StageColumn[],
    indexed: readonly string[] = [],
  ): Promise<CopyStage> {
    if (!IDENTIFIER.test(table)) throw new Error(`staging table name ${table} is not a plain identifier`);
    for (const c of columns)
      if (!IDENTIFIER.test(c.name) || !TYPE.test(c.type))
        throw new Error(`staging column ${c.name} ${c.type} is not a plain name and type`);
    const ddl = columns.map((c) => `${c.name} ${c.type}`).join(', ');
    await conn.unsafe(`create temporary table if not exists ${table} (${ddl})`);
    for (const c of indexed) {
      if (!columns.some((col) => col.name === c)) throw new Error(`staging column ${c} is not among the columns`);
      await conn.unsafe(`create index if not exists ${table}_${c} on ${table} (${c})`);
    }
    await conn.unsafe(`truncate ${table}`);
    return new CopyStage(conn, table, columns);
  }

  /** Loads COPY text (one line per row, each ended by \n) into the table. */
  async load(copyText: string): Promise<void> {
    if (!copyText) return;
    const names = this.columns.map((c) => c.name).join(', ');
    const stream = await this.conn.unsafe(`copy ${this.table} (${names}) from stdin`).writable();
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('finish', resolve);
      stream.end(copyText);
    });
  }

  /** Statistics on some columns, so that the planner picks index probes into large tables. */
  async analyze(columns: readonly string[]): Promise<void> {
    for (const c of columns) if (!IDENTIFIER.test(c)) throw new Error(`column ${c} is not a plain identifier`);
    await this.conn.unsafe(`analyze ${this.table} (${columns.join(', ')})`);
  }

  async truncate(): Promise<void> {
    await this.conn.unsafe(`truncate ${this.table}`);
  }
}
