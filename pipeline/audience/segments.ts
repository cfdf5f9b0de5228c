// Named segments: the built-in ones, those in mailroom.yaml, and those in the file at hand, the
// later replacing the earlier. A segment is rules plus an optional top-N ranking or sample.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ExitCode, UserError } from '../../config/errors.ts';
import { YamlSource, formatPath } from '../../config/yaml-file.ts';
import { RuleError, parseRule, referencedSegments, segmentReferences, type Path, type Rule } from './rules.ts';

export const BUILTIN_SEGMENTS_FILE = fileURLToPath(new URL('./builtin-segments.yaml', import.meta.url));

const RANKS = /^\s*(\d+)\s*-\s*(\d+)\s*$/;

export const bandSchema = z.strictObject({
  name: z.string().min(1).max(40),
  ranks: z.string().regex(RANKS, 'ranks must look like 1-60'),
});

export const topSchema = z.strictObject({
  n: z.number().int().positive(),
  by: z.string().min(1),
  order: z.enum(['desc', 'asc']).default('desc'),
  bands: z.array(bandSchema).optional(),
});

/** A share in per cent, written as a number (20) or as people write it elsewhere ("20%"). */
export function percentSchema() {
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*%\s*$/.test(v) ? Number(v.replace('%', '').trim()) : v),
    z.number({
      error: (issue) => (issue.code === 'invalid_type' ? 'a number of percent, e.g. 20 (or "20%")' : undefined),
    }),
  );
}

export const sampleSchema = z.union([
  z.strictObject({ n: z.number().int().positive() }),
  z.strictObject({ percent: percentSchema().pipe(z.number().gt(0).max(100)) }),
]);

export const segmentSchema = z.strictObject({
  description: z.string().optional(),
  rules: z.unknown(),
  top: topSchema.optional(),
  sample: sampleSchema.optional(),
});

export interface Band {
  name: string;
  from: number;
  to: number;
}

export interface Segment {
  name: string;
  description?: string | undefined;
  rules: Rule;
  top?: { n: number; by: string; order: 'desc' | 'asc'; bands: Band[] } | undefined;
  sample?: { n: number } | { percent: number } | undefined;
  /** Where it was defined, for messages. */
  origin: string;
}

/** Turns a rule error into a message with file, line and YAML path. */
export function ruleErrorAt(source: YamlSource, base: Path, error: RuleError): UserError {
  const path = [...base, ...error.path];
  return new UserError(`${source.where(path)}: ${formatPath(path)}: ${error.message}`, ExitCode.badInput);
}

export function parseBands(
  bands: z.infer<typeof bandSchema>[] | undefined,
  n: number,
  source: YamlSource,
  base: Path,
): Band[] {
  const out: Band[] = [];
  (bands ?? []).forEach((b, i) => {
    const m = RANKS.exec(b.ranks)!;
    const from = Number(m[1]);
    const to = Number(m[2]);
    const where = `${source.where([...base, i, 'ranks'])}: ${formatPath([...base, i, 'ranks'])}`;
    if (from < 1 || to < from)
      throw new UserError(
        `${where}: ranks ${b.ranks} must run from a lower to a higher rank, starting at 1 or more`,
        ExitCode.badInput,
      );
    if (to > n) throw new UserError(`${where}: ranks ${b.ranks} go past top n (${n})`, ExitCode.badInput);
    const overlap = out.find((o) => from <= o.to && to >= o.from);
    if (overlap)
      throw new UserError(
        `${where}: ranks ${b.ranks} overlap band ${overlap.name} (${overlap.from}-${overlap.to})`,
        ExitCode.badInput,
      );
    if (out.some((o) => o.name === b.name))
      throw new UserError(`${where}: band name ${b.name} is used twice`, ExitCode.badInput);
    out.push({ name: b.name, from, to });
  });
  return out;
}

/** Parses one segment definition found at `base` in `source`. */
export function parseSegment(name: string, raw: unknown, source: YamlSource, base: Path): Segment {
  const parsed = segmentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = [...base, ...(issue.path as Path)];
    throw new UserError(`${source.where(path)}: ${formatPath(path)}: ${issue.message}`, ExitCode.badInput);
  }
  const def = parsed.data;
  if (def.rules === undefined)
    throw new UserError(`${source.where(base)}: ${formatPath(base)}: a segment needs rules`, ExitCode.badInput);
  let rules: Rule;
  try {
    rules = parseRule(def.rules, []);
  } catch (error) {
    if (error instanceof RuleError) throw ruleErrorAt(source, [...base, 'rules'], error);
    throw error;
  }
  if (def.top && def.sample)
    throw new UserError(`${source.where(base)}: ${formatPath(base)}: use top or sample, not both`, ExitCode.badInput);
  return {
    name,
    description: def.description,
    rules,
    top: def.top
      ? { ...def.top, bands: parseBands(def.top.bands, def.top.n, source, [...base, 'top', 'bands']) }
      : undefined,
    sample: def.sample,
    origin: `${source.where(base)}`,
  };
}

export class SegmentRegistry {
  private readonly segments = new Map<string, Segment>();

  /** Adds every segment under `segments:` of a YAML source; later definitions replace earlier. */
  addFrom(source: YamlSource, base: Path = ['segments']): this {
    const raw = base.reduce<unknown>(
      (node, key) => (node as Record<string | number, unknown> | undefined)?.[key],
      source.toJS(),
    );
    if (raw === undefined) return this;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new UserError(
        `${source.where(base)}: ${formatPath(base)}: must be a mapping of segment names to definitions`,
        ExitCode.badInput,
      );
    }
    for (const [name, def] of Object.entries(raw)) {
      if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name))
        throw new UserError(
          `${source.where([...base, name])}: segment name "${name}" may use only letters, digits, - and _`,
          ExitCode.badInput,
        );
      this.segments.set(name, parseSegment(name, def, source, [...base, name]));
    }
    return this;
  }

  get(name: string): Segment | undefined {
    return this.segments.get(name);
  }

  names(): string[] {
    return [...this.segments.keys()];
  }

  all(): Segment[] {
    return [...this.segments.values()];
  }

  /**
   * Rules written in place (an audience's `rules:`) may name segments too: each must exist and be
   * defined by rules alone. Named segments are checked by check(); these are not in the registry.
   */
  checkRule(rule: Rule, source: YamlSource, base: Path): void {
    for (const ref of segmentReferences(rule)) {
      const path = [...base, ...ref.path];
      const where = `${source.where(path)}: ${formatPath(path)}`;
      const target = this.segments.get(ref.name);
      if (!target)
        throw new UserError(
          `${where}: unknown segment "${ref.name}". Known: ${this.names().join(', ')}`,
          ExitCode.badInput,
        );
      if (target.top || target.sample)
        throw new UserError(
          `${where}: segment ${ref.name} ranks or samples; only segments defined by rules alone can be used inside rules`,
          ExitCode.badInput,
        );
    }
  }

  /** Fails on a reference to an unknown segment or a cycle, naming where. */
  check(): void {
    for (const segment of this.segments.values()) this.walk(segment, [segment.name]);
  }

  private walk(segment: Segment, chain: string[]): void {
    for (const ref of referencedSegments(segment.rules)) {
      const target = this.segments.get(ref);
      if (!target)
        throw new UserError(
          `${segment.origin}: segment ${segment.name} refers to unknown segment "${ref}". Known: ${this.names().join(', ')}`,
          ExitCode.badInput,
        );
      if (chain.includes(ref))
        throw new UserError(
          `${segment.origin}: segments refer to each other in a cycle: ${[...chain, ref].join(' → ')}`,
          ExitCode.badInput,
        );
      if (target.top || target.sample) {
        throw new UserError(
          `${segment.origin}: segment ${segment.name} uses segment ${ref}, which ranks or samples; only segments defined by rules alone can be used inside rules`,
          ExitCode.badInput,
        );
      }
      this.walk(target, [...chain, ref]);
    }
  }
}

export function builtinSegments(): SegmentRegistry {
  return new SegmentRegistry().addFrom(YamlSource.read(BUILTIN_SEGMENTS_FILE));
}
