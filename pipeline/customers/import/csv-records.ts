// An RFC 4180 record reader that never loses a row: a malformed record becomes a record with an
// `error` (and its raw text), and reading resumes at the next line. Text is fed in chunks.
//
// Line ends may be LF, CRLF or a lone CR (old Mac exports), in any mix. A quoted value may hold
// line breaks; but a record that spans several lines and then does not make a sound record
// (text after a closing quote, a quote never closed, or — once the header's width is known — the
// wrong number of values) is taken as a stray quote: only its first line is rejected, and reading
// resumes on the next line, so the rows after a stray quote are read as themselves.
export interface CsvRecord {
  /** 1-based line on which the record starts. */
  line: number;
  fields: string[];
  raw: string;
  error?: string;
}

/** The longest value a record may hold, in characters; a longer one rejects its line. */
export const MAX_FIELD_CHARS = 100_000;

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

type ParseOutcome =
  | { kind: 'record'; end: number; fields: string[]; breaks: number; error?: string }
  | { kind: 'incomplete' }
  | { kind: 'unterminated' }
  | { kind: 'oversized'; column: number };

function unquote(text: string): string {
  return text.includes('""') ? text.replaceAll('""', '"') : text;
}

/** Line breaks in a piece of text: LF, CRLF and lone CR each count once. */
function countBreaks(text: string): number {
  let n = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === LF || (c === CR && text.charCodeAt(k + 1) !== LF)) n++;
  }
  return n;
}

/** Parses one record starting at `start`; `final` means no more text will come. */
function parseRecord(buf: string, start: number, final: boolean, maxField: number): ParseOutcome {
  const fields: string[] = [];
  let i = start;
  let breaks = 0;
  let error: string | undefined;
  const done = (end: number, terminator: number) =>
    ({ kind: 'record', end, fields, breaks: breaks + terminator, ...(error ? { error } : {}) }) as const;
  for (;;) {
    // At the start of a field.
    if (i >= buf.length) {
      if (!final) return { kind: 'incomplete' };
      fields.push('');
      return done(i, 0);
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
        if (buf.length - open > maxField + 2) return { kind: 'oversized', column: fields.length + 1 };
        return final ? { kind: 'unterminated' } : { kind: 'incomplete' };
      }
      if (closed - open - 1 > maxField) return { kind: 'oversized', column: fields.length + 1 };
      const body = buf.slice(open + 1, closed);
      if (body.includes('\n') || body.includes('\r')) breaks += countBreaks(body);
      i = closed + 1;
      // After the closing quote only a delimiter or the end of the record may follow.
      let j = i;
      while (j < buf.length) {
        const c = buf.charCodeAt(j);
        if (c === COMMA || c === LF || c === CR) break;
        j++;
      }
      if (j >= buf.length && !final) return { kind: 'incomplete' };
      if (j > i) {
        const trailing = buf.slice(i, j);
        error ??= `column ${fields.length + 1}: text ${JSON.stringify(trailing.slice(0, 20))} after a closing quote`;
        fields.push(unquote(body) + trailing);
      } else fields.push(unquote(body));
      i = j;
    } else {
      let j = i;
      while (j < buf.length) {
        const c = buf.charCodeAt(j);
        if (c === COMMA || c === LF || c === CR) break;
        j++;
      }
      if (j - i > maxField) return { kind: 'oversized', column: fields.length + 1 };
      if (j >= buf.length && !final) return { kind: 'incomplete' };
      fields.push(buf.slice(i, j));
      i = j;
    }
    if (i >= buf.length) {
      if (!final) return { kind: 'incomplete' };
      return done(i, 0);
    }
    const c = buf.charCodeAt(i);
    if (c === LF) return done(i + 1, 1);
    if (c === CR) {
      // A CR at the end of the text so far may be the first half of a CRLF.
      if (i + 1 >= buf.length && !final) return { kind: 'incomplete' };
      return done(buf.charCodeAt(i + 1) === LF ? i + 2 : i + 1, 1);
    }
    i++; // comma
  }
}

/** The end of the physical line starting at `pos` (its terminator excluded), or -1 if not in `buf`. */
function lineEnd(buf: string, pos: number): number {
  for (let k = pos; k < buf.length; k++) {
    const c = buf.charCodeAt(k);
    if (c === LF || c === CR) return k;
  }
  return -1;
}

function stripTerminator(raw: string): string {
  const last = raw.charCodeAt(raw.length - 1);
  if (last === LF) return raw.charCodeAt(raw.length - 2) === CR ? raw.slice(0, -2) : raw.slice(0, -1);
  if (last === CR) return raw.slice(0, -1);
  return raw;
}

const RAW_KEPT = 1000;

export class CsvRecordReader {
  private buf = '';
  private line = 1;
  /** While a too-long line is being skipped: its record, completed when the line ends. */
  private skipping: CsvRecord | undefined;
  private readonly maxField: number;
  /** The number of values a record must have (the header's), once known; see the file comment. */
  width: number | undefined;

  constructor(opts: { maxFieldChars?: number; width?: number } = {}) {
    this.maxField = opts.maxFieldChars ?? MAX_FIELD_CHARS;
    this.width = opts.width;
  }

  /** Feeds text; returns the records completed by it. */
  push(text: string): CsvRecord[] {
    this.buf += text;
    return this.drain(false);
  }

  /** Ends the input; returns the remaining records. */
  end(): CsvRecord[] {
    return this.drain(true);
  }

  /** The line at `pos` alone becomes a rejected record; returns where reading resumes, or -1 to skip on. */
  private rejectLine(out: CsvRecord[], pos: number, error: string, final: boolean): number {
    const end = lineEnd(this.buf, pos);
    if (end === -1 && !final) {
      // The line goes on beyond what has been read: keep its start, drop the rest as it comes.
      this.skipping = { line: this.line, fields: [], raw: this.buf.slice(pos, pos + RAW_KEPT) + '…', error };
      return -1;
    }
    const stop = end === -1 ? this.buf.length : end;
    const raw = stop - pos > RAW_KEPT * 10 ? this.buf.slice(pos, pos + RAW_KEPT) + '…' : this.buf.slice(pos, stop);
    out.push({ line: this.line, fields: [], raw, error });
    this.line++;
    if (end === -1) return this.buf.length;
    if (this.buf.charCodeAt(end) === CR && this.buf.charCodeAt(end + 1) === LF) return end + 2;
    return end + 1;
  }

  private drain(final: boolean): CsvRecord[] {
    const out: CsvRecord[] = [];
    let pos = 0;
    if (this.skipping) {
      const end = lineEnd(this.buf, 0);
      if (end === -1 && !final) {
        this.buf = '';
        return out;
      }
      out.push(this.skipping);
      this.skipping = undefined;
      this.line++;
      pos = end === -1 ? this.buf.length : end;
      if (this.buf.charCodeAt(pos) === CR) pos++;
      if (this.buf.charCodeAt(pos) === LF) pos++;
    }
    while (pos < this.buf.length) {
      const outcome = parseRecord(this.buf, pos, final, this.maxField);
      if (outcome.kind === 'incomplete') break;
      let next: number;
      if (outcome.kind === 'unterminated') {
        next = this.rejectLine(out, pos, 'a quoted value is never closed (unterminated quote)', final);
      } else if (outcome.kind === 'oversized') {
        next = this.rejectLine(
          out,
          pos,
          `column ${outcome.column}: a value longer than ${this.maxField.toLocaleString('en')} characters (or a quote that is never closed); only this line is rejected`,
          final,
        );
      } else if (
        outcome.breaks > 1 &&
        (outcome.error || (this.width !== undefined && outcome.fields.length !== this.width))
      ) {
        // A quoted value ran over a line end and the result is not a sound record: a stray quote.
        next = this.rejectLine(
          out,
          pos,
          outcome.error
            ? `a quote on this line is not closed where its value ends (${outcome.error}); the next line is read as a new record`
            : `a quoted value on this line is never closed on it (a stray quote?); the next line is read as a new record`,
          final,
        );
      } else {
        const raw = stripTerminator(this.buf.slice(pos, outcome.end));
        if (raw.trim() !== '')
          out.push({
            line: this.line,
            fields: outcome.fields,
            raw,
            ...(outcome.error ? { error: outcome.error } : {}),
          });
        this.line += Math.max(outcome.breaks, 1);
        next = outcome.end;
      }
      if (next === -1) {
        this.buf = '';
        return out;
      }
      pos = next;
    }
    this.buf = this.buf.slice(pos);
    return out;
  }
}
