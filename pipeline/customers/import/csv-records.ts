// An RFC 4180 record reader that never loses a row: a malformed record becomes a record with an
// `error` (and its raw text), and reading resumes at the next line. Text is fed in chunks.
export interface CsvRecord {
  /** 1-based line on which the record starts. */
  line: number;
  fields: string[];
  raw: string;
  error?: string;
}

// A quoted field longer than this is taken as an unterminated quote, not as data.
const MAX_QUOTED_CHARS = 1_000_000;

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

type ParseOutcome =
  | { kind: 'record'; end: number; fields: string[]; lines: number; error?: string }
  | { kind: 'incomplete' }
  | { kind: 'unterminated' };

function unquote(text: string): string {
  return text.includes('""') ? text.replaceAll('""', '"') : text;
}

/** Parses one record starting at `start`; `final` means no more text will come. */
function parseRecord(buf: string, start: number, final: boolean): ParseOutcome {
  const fields: string[] = [];
  let i = start;
  let lines = 1;
  let error: string | undefined;
  for (;;) {
    // At the start of a field.
    if (i >= buf.length) {
      if (!final) return { kind: 'incomplete' };
      fields.push('');
      return { kind: 'record', end: i, fields, lines, ...(error ? { error } : {}) };
    }
    if (buf.charCodeAt(i) === QUOTE) {
      const open = i;
      i++;
      let closed = -1;
      while (i < buf.length) {
        const q = buf.indexOf('"', i);
        if (q === -1) break;
        if (buf.charCodeAt(q + 1) === QUOTE) {
          i = q + 2;
          continue;
        }
        if (q + 1 >= buf.length && !final) break; // cannot tell "" from " yet
        closed = q;
        break;
      }
      if (closed === -1) {
        if (!final && buf.length - open < MAX_QUOTED_CHARS) return { kind: 'incomplete' };
        return { kind: 'unterminated' };
      }
      const body = buf.slice(open + 1, closed);
      for (let k = body.indexOf('\n'); k !== -1; k = body.indexOf('\n', k + 1)) lines++;
      i = closed + 1;
      // After the closing quote only a delimiter or the end of the record may follow.
      let trailing = '';
      while (i < buf.length) {
        const c = buf.charCodeAt(i);
        if (c === COMMA || c === LF || (c === CR && buf.charCodeAt(i + 1) === LF)) break;
        if (c === CR && i + 1 >= buf.length && !final) return { kind: 'incomplete' };
        trailing += buf[i];
        i++;
      }
      if (trailing)
        error ??= `column ${fields.length + 1}: text ${JSON.stringify(trailing.slice(0, 20))} after a closing quote`;
      fields.push(unquote(body) + trailing);
    } else {
      let j = i;
      while (j < buf.length) {
        const c = buf.charCodeAt(j);
        if (c === COMMA || c === LF) break;
        j++;
      }
      if (j >= buf.length && !final) return { kind: 'incomplete' };
      let value = buf.slice(i, j);
      if (value.endsWith('\r')) value = value.slice(0, -1);
      fields.push(value);
      i = j;
    }
    if (i >= buf.length) {
      if (!final) return { kind: 'incomplete' };
      return { kind: 'record', end: i, fields, lines, ...(error ? { error } : {}) };
    }
    const c = buf.charCodeAt(i);
    if (c === CR) i++;
    if (buf.charCodeAt(i) === LF) return { kind: 'record', end: i + 1, fields, lines, ...(error ? { error } : {}) };
    i++; // comma
  }
}

export class CsvRecordReader {
  private buf = '';
  private line = 1;

  /** Feeds text; returns the records completed by it. */
  push(text: string): CsvRecord[] {
    this.buf += text;
    return this.drain(false);
  }

  /** Ends the input; returns the remaining records. */
  end(): CsvRecord[] {
    return this.drain(true);
  }

  private drain(final: boolean): CsvRecord[] {
    const out: CsvRecord[] = [];
    let pos = 0;
    while (pos < this.buf.length) {
      const outcome = parseRecord(this.buf, pos, final);
      if (outcome.kind === 'incomplete') break;
      if (outcome.kind === 'unterminated') {
        // Reject the line where the quote opened and resynchronise on the next one.
        const nl = this.buf.indexOf('\n', pos);
        const end = nl === -1 ? this.buf.length : nl + 1;
        const raw = this.buf.slice(pos, end);
        out.push({
          line: this.line,
          fields: [],
          raw: raw.replace(/\r?\n$/, ''),
          error: 'a quoted value is never closed (unterminated quote)',
        });
        this.line++;
        pos = end;
        continue;
      }
      const raw = this.buf.slice(pos, outcome.end).replace(/\r?\n$/, '');
      const blank = raw.trim() === '';
      if (!blank)
        out.push({ line: this.line, fields: outcome.fields, raw, ...(outcome.error ? { error: outcome.error } : {}) });
      this.line += outcome.lines;
      pos = outcome.end;
    }
    this.buf = this.buf.slice(pos);
    return out;
  }
}
