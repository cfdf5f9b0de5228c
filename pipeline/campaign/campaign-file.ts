// A campaign file: who (audience), what (waves of mail, email and SMS with their templates),
// offers by rank band. Validated with zod; every error names the file, line and path.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ExitCode, UserError } from '../../config/errors.ts';
import { YamlSource, formatPath } from '../../config/yaml-file.ts';
import { parseAudience, type Audience } from '../audience/audience.ts';
import { loadSegments } from '../audience/load.ts';
import type { MailroomConfig } from '../../config/mailroom-config.ts';
import { percentSchema, type SegmentRegistry } from '../audience/segments.ts';
import { landingCandidates, landingFolder } from '../render/landing-files.ts';
import { RESPONSE_KINDS } from '../audience/compile.ts';
import { campaignName, duration } from './names.ts';

export { durationMs } from './names.ts';

/**
 * An offer is its text, or its text with the stock bought and the cost of one (gifts handed out at
 * the branch): `gift-appliance: { text: 电风扇或电饭煲（二选一）, stock: 60, unit_cost: 325.09 }`.
 */
export const offerSchema = z.union([
  z.string().min(1),
  z.strictObject({
    text: z.string().min(1),
    stock: z.number().int().min(0).optional(),
    unit_cost: z.number().min(0).optional(),
  }),
]);
export type OfferSpec = z.infer<typeof offerSchema>;
export const offerText = (offer: OfferSpec): string => (typeof offer === 'string' ? offer : offer.text);

export const waveSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,40}$/, 'use lower-case letters, digits, - and _'),
  channel: z.enum(['mail', 'email', 'sms']),
  template: z.union([z.string().min(1), z.record(z.string(), z.string().min(1))]),
  after: duration.default('0s'),
  to: z.string().default('all'),
  rate_limit: z.number().positive().optional(),
  cost_per_piece: z.number().min(0).optional(),
  quiet_hours: z
    .strictObject({ from: z.string().regex(/^\d{2}:\d{2}$/), to: z.string().regex(/^\d{2}:\d{2}$/) })
    .optional(),
  /** Mail waves: how long the workflow waits for `mailroom mail confirm` before giving up on the wave. */
  confirm_within: duration.default('14d'),
});
export type Wave = z.infer<typeof waveSchema>;

export const campaignFileSchema = z.looseObject({
  name: campaignName,
  title: z.string().optional(),
  description: z.string().optional(),
  owner: z.string().optional(),
  offers: z.record(z.string(), offerSchema).default({}),
  waves: z.array(waveSchema).min(1, 'a campaign needs at least one wave'),
  /** How long after the last wave responses still count, and which kinds of response count. */
  response_window: duration.default('30d'),
  response_kinds: z
    .array(z.enum(RESPONSE_KINDS as [string, ...string[]]))
    .min(1)
    .default(RESPONSE_KINDS),
  budget: z.number().positive().optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as CNY, EUR or USD')
    .default('CNY'),
  /** The landing page's template folder (landing.html.hbs, landing.<lang>.html.hbs); the shipped page when absent. */
  landing: z.string().min(1).optional(),
  /** How responses are credited: each sent wave's window from its date (default 90d for mail, 30d for email and SMS). */
  attribution: z
    .strictObject({ window: duration.optional(), model: z.literal('any_touch').default('any_touch') })
    .optional(),
  /** The response rate the campaign expects (percent) and the lift it hopes for (points): the power check before launch. */
  expected_response: percentSchema().pipe(z.number().gt(0).lt(100)).default(5),
  expected_lift: percentSchema().pipe(z.number().gt(0).lt(100)).default(3),
});

/** Who a wave goes to, besides the campaign's contactable members. */
export const WAVE_TARGETS = ['all', 'non-responders', 'responders'] as const;

export interface LoadedCampaign {
  file: string;
  dir: string;
  source: YamlSource;
  slug: string;
  title: string;
  description?: string | undefined;
  owner?: string | undefined;
  offers: Record<string, string>;
  waves: Wave[];
  responseWindow: string;
  responseKinds: string[];
  budget?: number | undefined;
  currency: string;
  /** Percent: the response rate expected, and the lift (in points) the campaign hopes to show. */
  expectedResponse: number;
  expectedLift: number;
  audience: Audience;
  registry: SegmentRegistry;
  config: MailroomConfig;
}

export function loadCampaign(file: string): LoadedCampaign {
  return campaignFrom(resolve(file), loadSegments(resolve(file)), { fresh: true });
}

/**
 * A campaign from its stored text (as launched), read as if it still were at `file`. Checks added
 * since a campaign was launched are not applied: a running campaign must keep loading.
 */
export function loadCampaignText(file: string, text: string): LoadedCampaign {
  return campaignFrom(file, loadSegments(file, YamlSource.parse(file, text)), { fresh: false });
}

/** Offers go by band: a key that names no band of the audience would render `{{offer}}` empty. */
function checkOffers(offers: Record<string, unknown>, audience: Audience, source: YamlSource): void {
  const bands = audience.segment.top?.bands.map((b) => b.name) ?? [];
  const lines = Object.keys(offers)
    .filter((key) => !bands.includes(key))
    .map(
      (key) =>
        `${source.where(['offers', key])}: offers.${key}: no band of the audience is called "${key}"; ${
          bands.length
            ? `its bands: ${bands.join(', ')}`
            : 'the audience has no bands (offers go with audience.top.bands, e.g. { name: gift-oil, ranks: 61-160 })'
        }`,
    );
  if (lines.length) throw new UserError(lines.join('\n'), ExitCode.badInput);
}

function campaignFrom(path: string, loaded: ReturnType<typeof loadSegments>, opts: { fresh: boolean }): LoadedCampaign {
  const { registry, config, source } = loaded;
  const parsed = campaignFileSchema.safeParse(source!.toJS() ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) =>
        `${source!.where(i.path as (string | number)[])}: ${formatPath(i.path as (string | number)[])}: ${i.message}`,
    );
    throw new UserError(lines.join('\n'), ExitCode.badInput);
  }
  const c = parsed.data;
  const names = new Set<string>();
  c.waves.forEach((w, i) => {
    if (names.has(w.name))
      throw new UserError(
        `${source!.where(['waves', i, 'name'])}: waves[${i}].name: another wave is already called ${w.name}`,
        ExitCode.badInput,
      );
    names.add(w.name);
    checkTarget(w, i, source!, registry);
  });
  const audience = parseAudience(source!, registry);
  if (opts.fresh) {
    checkOffers(c.offers, audience, source!);
    if (c.landing) checkLanding(c.landing, dirname(path), source!);
  }
  return {
    file: path,
    dir: dirname(path),
    source: source!,
    slug: c.name,
    title: c.title ?? c.description ?? c.name,
    description: c.description,
    owner: c.owner,
    offers: Object.fromEntries(Object.entries(c.offers).map(([key, offer]) => [key, offerText(offer)])),
    waves: c.waves,
    responseWindow: c.response_window,
    responseKinds: c.response_kinds,
    budget: c.budget,
    currency: c.currency,
    expectedResponse: c.expected_response,
    expectedLift: c.expected_lift,
    audience,
    registry,
    config,
  };
}

/** `landing:` names a folder that holds a landing page template. */
function checkLanding(name: string, dir: string, source: YamlSource): void {
  const folder = landingFolder(name, dir);
  if (landingCandidates([folder], 'en').some((file) => existsSync(file))) return;
  throw new UserError(
    `${source.where(['landing'])}: landing: "${name}" has no landing page template (looked for landing.html.hbs or landing.<language>.html.hbs in ${folder})`,
    ExitCode.badInput,
  );
}

/** `to:` is all, non-responders, responders, or a segment defined by rules alone. */
function checkTarget(wave: Wave, index: number, source: YamlSource, registry: SegmentRegistry): void {
  if ((WAVE_TARGETS as readonly string[]).includes(wave.to)) return;
  const where = `${source.where(['waves', index, 'to'])}: waves[${index}].to`;
  const segment = registry.get(wave.to);
  if (!segment)
    throw new UserError(
      `${where}: "${wave.to}" is neither ${WAVE_TARGETS.join(', ')} nor a known segment (known: ${registry.names().join(', ')})`,
      ExitCode.badInput,
    );
  if (segment.top || segment.sample)
    throw new UserError(
      `${where}: segment ${wave.to} ranks or samples; a wave can narrow to a segment defined by rules alone`,
      ExitCode.badInput,
    );
}

export function findWave(campaign: LoadedCampaign, name: string | undefined, channel?: Wave['channel']): Wave {
  const candidates = campaign.waves.filter((w) => !channel || w.channel === channel);
  if (name) {
    const wave = campaign.waves.find((w) => w.name === name);
    if (!wave)
      throw new UserError(
        `${campaign.file} has no wave "${name}"; its waves: ${campaign.waves.map((w) => w.name).join(', ')}`,
        ExitCode.badInput,
      );
    if (channel && wave.channel !== channel)
      throw new UserError(
        `wave ${name} of ${campaign.file} is a ${wave.channel} wave, not ${channel}`,
        ExitCode.badInput,
      );
    return wave;
  }
  if (candidates.length === 1) return candidates[0]!;
  throw new UserError(
    `${campaign.file} has ${candidates.length} ${channel ?? ''} waves (${candidates.map((w) => w.name).join(', ')}); choose one with --wave NAME`,
    ExitCode.usage,
  );
}

/** The template folder a member of `variant` gets in `wave`. */
export function waveTemplateName(wave: Wave, variant: string | null): string {
  if (typeof wave.template === 'string') return wave.template;
  return (variant ? wave.template[variant] : undefined) ?? wave.template.default ?? Object.values(wave.template)[0]!;
}
