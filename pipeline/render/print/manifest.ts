// manifest.csv, the print shop's list of pieces. It is opened in spreadsheets, so customer data
// that starts like a formula (=, +, -, @, a tab or a carriage return: OWASP "CSV Injection") is
// neutralised the way OWASP describes: the cell is quoted and starts with a single quote, which
// a spreadsheet shows as text and never evaluates. The file starts with a UTF-8 byte order mark,
// without which Excel reads it in the system's code page (GBK on Chinese Windows).
import { stringify } from 'csv-stringify/sync';

export const MANIFEST_BOM = '\uFEFF';

export const MANIFEST_COLUMNS = [
  'sequence',
  'piece_id',
  'customer_id',
  'external_id',
  'name',
  'address_1',
  'address_2',
  'address_3',
  'address_4',
  'address_5',
  'postal_code',
  'country',
  'file',
  'first_page',
  'page_count',
  'response_code',
  'purl',
  'band',
  'variant',
] as const;

// Full-width forms too: Chinese input methods type them, and spreadsheets take ＝ and ＋ for = and +.
const FORMULA_START = /^[=+\-@\t\r\n＝＋－＠]/;

/** A text cell a spreadsheet will show as text: a formula-like start gets a leading single quote. */
export function spreadsheetSafe(cell: string | number): string | number {
  return typeof cell === 'string' && FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** CSV lines for `rows`, every text cell made spreadsheet-safe; neutralised cells are quoted. */
export function manifestLines(rows: (string | number)[][]): string {
  return stringify(
    rows.map((row) => row.map(spreadsheetSafe)),
    { quoted_match: /^'/ },
  );
}

export function manifestHeader(): string {
  return MANIFEST_BOM + manifestLines([[...MANIFEST_COLUMNS]]);
}
