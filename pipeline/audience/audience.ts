// A campaign's audience: which segment, ranked or sampled, on which channel, with what holdout
// and which variants. Read from the `audience:` block of a campaign file.
import { z } from 'zod';
import { ExitCode, UserError } from '../../config/errors.ts';
import { type YamlSource, formatPath } from '../../config/yaml-file.ts';
import { RuleError, parseRule, type Channel, type Path } from './rules.ts';
import {
  parseBands,
  percentSchema,
  ruleErrorAt,
  sampleSchema,
  topSchema,
  type Segment,
  type SegmentRegistry,
} from './segments.ts';

export const audienceSchema = z.strictObject({
  segment: z.string().min(1).optional(),
  rules: z.unknown().optional(),
  top: topSchema.optional(),
  sample: sampleSchema.optional(),
  channel: z.enum(['mail', 'email', 'sms']).default('mail'),
  holdout: percentSchema().pipe(z.number().min(0).max(50)).default(0),
  variants: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]{1,20}$/, 'variant names use letters, digits, - and _'),
      z.number().positive(),
    )
    .optional(),
  one_per_household: z.boolean().default(false),
});

export interface Variant {
  name: string;
  weight: number;
}

export interface Audience {
  segment: Segment;
  channel: Channel;
  holdoutPercent: number;
  variants: Variant[];
  onePerHousehold: boolean;
}

export function parseAudience(source: YamlSource, registry: SegmentRegistry, base: Path = ['audience']): Audience {
  const raw = base.reduce<unknown>(
    (node, key) => (node as Record<string | number, unknown> | undefined)?.[key],
    source.toJS(),
  );
  const parsed = audienceSchema.safeParse(raw ?? {});
  const where = (path: Path) => `${source.where(path)}: ${formatPath(path)}`;
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${where([...base, ...(issue.path as Path)])}: ${issue.message}`);
    throw new UserError(lines.join('\n'), ExitCode.badInput);
  }
  const a = parsed.data;
  if (a.segment && a.rules !== undefined)
    throw new UserError(`${where(base)}: give segment or rules, not both`, ExitCode.badInput);
  let segment: Segment;
  if (a.segment) {
    const named = registry.get(a.segment);
    if (!named)
      throw new UserError(
        `${where([...base, 'segment'])}: unknown segment "${a.segment}". Known: ${registry.names().join(', ')}`,
        ExitCode.badInput,
      );
    segment = named;
  } else if (a.rules !== undefined) {
    try {
      segment = { name: 'audience', rules: parseRule(a.rules, []), origin: source.where([...base, 'rules']) };
    } catch (error) {
      if (error instanceof RuleError) throw ruleErrorAt(source, [...base, 'rules'], error);
      throw error;
    }
    registry.checkRule(segment.rules, source, [...base, 'rules']);
  } else {
    throw new UserError(`${where(base)}: an audience needs a segment (a name) or rules`, ExitCode.badInput);
  }
  if ((a.top || a.sample) && (segment.top || segment.sample)) {
    throw new UserError(
      `${where(base)}: segment ${segment.name} already ranks or samples; do not add top or sample here`,
      ExitCode.badInput,
    );
  }
  if (a.top && a.sample) throw new UserError(`${where(base)}: use top or sample, not both`, ExitCode.badInput);
  if (a.top)
    segment = {
      ...segment,
      top: { ...a.top, bands: parseBands(a.top.bands, a.top.n, source, [...base, 'top', 'bands']) },
    };
  if (a.sample) segment = { ...segment, sample: a.sample };
  if (a.one_per_household && a.channel !== 'mail')
    throw new UserError(
      `${where([...base, 'one_per_household'])}: one per household applies to mail only`,
      ExitCode.badInput,
    );
  return {
    segment,
    channel: a.channel,
    holdoutPercent: a.holdout,
    variants: Object.entries(a.variants ?? {}).map(([name, weight]) => ({ name, weight })),
    onePerHousehold: a.one_per_household,
  };
}
