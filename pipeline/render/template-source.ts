// Compiles one Handlebars file strictly and turns its errors into "file:line: …" messages that
// name the field, e.g. `templates/letter/body.hbs:3: "customer.nme" is not in the data`.
import Handlebars from 'handlebars';
import { ExitCode, UserError } from '../../config/errors.ts';
import { registerHelpers } from './helpers.ts';
import { explainParseError } from './template-syntax.ts';

const hb = Handlebars.create();
registerHelpers(hb);

export interface CompiledPart {
  file: string;
  render(context: unknown): string;
}

function pathAt(source: string, line: number, column: number): string | undefined {
  let found: string | undefined;
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; original?: string; loc?: { start: { line: number; column: number } } };
    if (n.type === 'PathExpression' && n.loc && n.loc.start.line === line && n.loc.start.column <= column)
      found = n.original;
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object' && value !== n.loc) visit(value);
    }
  };
  try {
    visit(hb.parse(source));
  } catch {
    return undefined;
  }
  return found;
}

/** `html` escapes values (email HTML); everything else renders them as they are. */
export function compilePart(file: string, source: string, opts: { html: boolean }): CompiledPart {
  let template: HandlebarsTemplateDelegate;
  try {
    hb.precompile(source, { strict: true });
    template = hb.compile(source, { strict: true, noEscape: !opts.html });
  } catch (error) {
    const message = (error as Error).message;
    const parse = /^(Parse|Lexical) error on line \d+|^\S+ doesn't match \S+ - \d+:\d+/.test(message);
    const problem = parse
      ? explainParseError(source, message)
      : { line: (error as { lineNumber?: number }).lineNumber ?? 1, message: message.split('\n')[0]! };
    throw new UserError(
      `${file}:${problem.line}: the template does not compile: ${problem.message}`,
      ExitCode.badInput,
    );
  }
  return {
    file,
    render(context: unknown): string {
      try {
        return template(context);
      } catch (error) {
        const e = error as Error & { lineNumber?: number; column?: number };
        const missing = /^"([^"]+)" not defined in/.exec(e.message);
        if (missing && e.lineNumber) {
          const path = pathAt(source, e.lineNumber, e.column ?? 0) ?? missing[1];
          throw new UserError(
            `${file}:${e.lineNumber}: "${path}" is not in the data a template gets (see README, "Templates")`,
            ExitCode.badInput,
          );
        }
        throw new UserError(`${file}:${e.lineNumber ?? 1}: ${e.message}`, ExitCode.badInput);
      }
    },
  };
}
