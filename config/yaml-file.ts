// Reads a YAML file and validates it with a zod schema; every error names the file, the line and
// the field path, e.g. `campaign.yaml:12: waves[1].after: …`.
import { readFileSync } from 'node:fs';
import { isCollection, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ExitCode, UserError } from './errors.ts';

export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    readonly text: string,
  ) {}

  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const first = doc.errors[0];
    if (first) {
      const line = first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line;
      throw new UserError(`${file}:${line}: not valid YAML: ${first.message.split('\n')[0]}`, ExitCode.badInput);
    }
    return new YamlSource(file, doc, lines, text);
  }

  static read(file: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UserError(
        `cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
        ExitCode.badInput,
      );
    }
    return YamlSource.parse(file, text);
  }

  /** The line of the deepest node that exists along `path`. */
  lineOf(path: readonly PropertyKey[]): number {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, depth) as unknown[], true);
      if (isNode(node) && node.range) {
        // For a missing key, point at the mapping that lacks it rather than its first child.
        const offset = depth < path.length && isCollection(node) ? node.range[0] : node.range[0];
        return this.lines.linePos(offset).line;
      }
    }
    return 1;
  }

  where(path: readonly PropertyKey[]): string {
    return `${this.file}:${this.lineOf(path)}`;
  }

  toJS(): unknown {
    return this.doc.toJS();
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out || '(top level)';
}

/** Validates the document; all problems are reported, each on its own line. */
export function validateYaml<S extends z.ZodType>(source: YamlSource, schema: S): z.infer<S> {
  const parsed = schema.safeParse(source.toJS());
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map(
    (issue) => `${source.where(issue.path)}: ${formatPath(issue.path)}: ${issue.message}`,
  );
  throw new UserError(lines.join('\n'), ExitCode.badInput);
}
