// Handlebars reports a template it cannot parse in its parser's terms ("Expecting
// 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', got 'EOF'") and often at the end of the file,
// far from the mistake. This reads the template's {{ }} structure itself and says what is wrong
// and where, in a template author's terms: a block never closed, a close that does not match, a
// close with no block, a {{ without its }}.

export interface SyntaxProblem {
  line: number;
  message: string;
}

interface OpenBlock {
  name: string;
  line: number;
  /** How it was written, for the message: {{#if}}, {{^items}}, {{#> layout}}. */
  shown: string;
}

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < source.length; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** The first word of a block's expression: the helper or path it names. */
function blockName(expr: string): string {
  return /^\s*([^\s}~()]+)/.exec(expr)?.[1] ?? '';
}

function excerpt(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 40 ? `${one.slice(0, 40)}…` : one;
}

/** The first structural mistake in `source`, or undefined when its {{ }} structure is sound. */
export function findSyntaxProblem(source: string): SyntaxProblem | undefined {
  const stack: OpenBlock[] = [];
  let i = 0;
  for (;;) {
    const open = source.indexOf('{{', i);
    if (open === -1) break;
    // \{{ is a literal {{ (and \\{{ an escaped backslash before a real one).
    let slashes = 0;
    for (let k = open - 1; k >= 0 && source[k] === '\\'; k--) slashes++;
    if (slashes % 2 === 1) {
      i = open + 2;
      continue;
    }
    const line = lineAt(source, open);
    // Raw blocks ({{{{raw}}}} … {{{{/raw}}}}) hold anything: leave them to the parser.
    if (source.startsWith('{{{{', open)) return undefined;
    if (/^\{\{~?!--/.test(source.slice(open, open + 6))) {
      const rest = /--~?\}\}/.exec(source.slice(open + 5));
      if (!rest) return { line, message: 'the comment `{{!--` opened here is never closed with `--}}`' };
      i = open + 5 + rest.index + rest[0].length;
      continue;
    }
    const triple = source.startsWith('{{{', open);
    const closer = triple ? '}}}' : '}}';
    const bodyStart = open + (triple ? 3 : 2);
    const close = source.indexOf(closer, bodyStart);
    const next = source.indexOf('{{', bodyStart);
    if (source.startsWith('!', bodyStart) || source.startsWith('~!', bodyStart)) {
      if (close === -1) return { line, message: 'the comment `{{!` opened here is never closed with `}}`' };
      i = close + 2;
      continue;
    }
    if (close === -1 || (next !== -1 && next < close)) {
      const upTo = next !== -1 && (close === -1 || next < close) ? next : source.indexOf('\n', open);
      const written = excerpt(source.slice(open, upTo === -1 ? undefined : upTo));
      return {
        line,
        message: `\`${written}\` is never closed: each \`${triple ? '{{{' : '{{'}\` needs its \`${closer}\``,
      };
    }
    const expr = source.slice(bodyStart, close).replace(/^~/, '').replace(/~$/, '').trim();
    i = close + closer.length;
    if (triple) continue;
    const sigil = /^(#>|#\*|#|\^|\/)/.exec(expr)?.[1];
    if (sigil === '#' || sigil === '#>' || sigil === '#*') {
      const name = blockName(expr.slice(sigil.length));
      stack.push({ name, line, shown: `{{${sigil}${sigil === '#>' ? ' ' : ''}${name}}}` });
    } else if (sigil === '^') {
      const name = blockName(expr.slice(1));
      // {{^}} alone is an else; {{^name}} opens an inverse block.
      if (name) stack.push({ name, line, shown: `{{^${name}}}` });
      else if (!stack.length) return { line, message: '`{{^}}` (an else) stands outside any block' };
    } else if (sigil === '/') {
      const name = blockName(expr.slice(1));
      const top = stack.at(-1);
      if (!top) return { line, message: `\`{{/${name}}}\` closes a block that was never opened` };
      if (top.name === name) {
        stack.pop();
        continue;
      }
      if (stack.some((b) => b.name === name))
        return {
          line: top.line,
          message: `\`${top.shown}\` opened on line ${top.line} is never closed: add \`{{/${top.name}}}\` before \`{{/${name}}}\` on line ${line}`,
        };
      return {
        line,
        message: `\`{{/${name}}}\` does not match \`${top.shown}\` opened on line ${top.line}: close it with \`{{/${top.name}}}\``,
      };
    } else if (/^else(\s|$)/.test(expr) && !stack.length) {
      return { line, message: '`{{else}}` stands outside any block' };
    }
  }
  const unclosed = stack.at(-1);
  if (unclosed)
    return {
      line: unclosed.line,
      message: `\`${unclosed.shown}\` opened on line ${unclosed.line} is never closed: add \`{{/${unclosed.name}}}\``,
    };
  return undefined;
}

/**
 * A parse error in a template author's terms: the structural mistake when there is one, else
 * the parser's line with the text it stopped at (never its token names).
 */
export function explainParseError(source: string, parserMessage: string): SyntaxProblem {
  const found = findSyntaxProblem(source);
  if (found) return found;
  const at = /(?:Parse|Lexical) error on line (\d+)/.exec(parserMessage);
  const mismatch = /^(\S+) doesn't match (\S+) - (\d+):\d+/.exec(parserMessage);
  if (mismatch)
    return {
      line: Number(mismatch[3]),
      message: `\`{{#${mismatch[1]}}}\` opened on line ${mismatch[3]} is closed by \`{{/${mismatch[2]}}}\`: close it with \`{{/${mismatch[1]}}}\``,
    };
  if (at) {
    const line = Number(at[1]);
    const text = source.split('\n')[line - 1] ?? '';
    return {
      line,
      message: `Handlebars cannot read \`${excerpt(text)}\`: check the {{ }} on this line (a helper is written {{helper value}}, a block {{#if x}}…{{/if}})`,
    };
  }
  return { line: 1, message: parserMessage.split('\n')[0]! };
}
