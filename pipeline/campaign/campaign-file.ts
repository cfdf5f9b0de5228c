// A campaign file: who (audience), what (waves of mail, email, SMS and calls with their templates),
// offers by rank band, goals and the fallback audience. Validated with zod; every error names the
// file, line and path.
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
import { checkBooking } from '../calls/booking.ts';

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

export const WAVE_CHANNELS = ['mail', 'email', 'sms', 'call'] as const;

export const waveSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,40}$/, 'use lower-case letters, digits, - and _'),
  channel: z.enum(WAVE_CHANNELS),
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
  /** Call waves: the customer attribute naming the account manager (default account_manager). */
  assign_by: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,62}$/, 'a customer attribute name such as account_manager')
    .optional(),
  /** Call waves: who gets the customers without a manager (default unassigned). */
  unassigned: z.string().trim().min(1).max(100).optional(),
  /** Call waves: how long the managers have; open tasks are overdue after it (default 7d). */
  due_within: duration.optional(),
  /** Call waves: how many calls a task may take before it fails (no answer each time; default 3). */
  attempts: z.number().int().min(1).max(20).optional(),
});
export type Wave = z.infer<typeof waveSchema>;

/** The keys only call waves take. */
const CALL_KEYS = ['assign_by', 'unassigned', 'due_within', 'attempts'] as const;

export interface CallWaveSpec {
  assignBy: string;
  unassigned: string;
  dueWithin: string;
  attempts: number;
}

/** A call wave's keys with their defaults. */
export function callWaveSpec(wave: Wave): CallWaveSpec {
  return {
    assignBy: wave.assign_by ?? 'account_manager',
    unassigned: wave.unassigned ?? 'unassigned',
    dueWithin: wave.due_within ?? '7d',
    attempts: wave.attempts ?? 3,
  };
}

/**
 * `goals: { contact: { within: 6d }, responses: { kind: branch_visit, target: 160, by: 20d } }`:
 * every contactable member contacted within a time, and so many responses of a kind by a time,
 * both measured from the campaign's start.
 */
export const goalsSchema = z.strictObject({
  contact: z.strictObject({ within: duration }).optional(),
  responses: z
    .strictObject({
      kind: z.enum(RESPONSE_KINDS as [string, ...string[]]),
      target: z.number().int().positive(),
      by: duration,
    })
    .optional(),
});
export type Goals = z.infer<typeof goalsSchema>;

/**
 * `fallback: { extend_to: 800, check_at: 10d, below_pace: true }`: at check_at after the start,
 * when the responses goal is below its pace (or always, with below_pace: false), the audience is
 * extended to the next ranks up to extend_to as a new cohort that gets the campaign's waves.
 */
export const fallbackSchema = z.strictObject({
  extend_to: z.number().int().positive(),
  check_at: duration,
  below_pace: z.boolean().default(true),
});
export type Fallback = z.infer<typeof fallbackSchema>;

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
  goals: goalsSchema.optional(),
  fallback: fallbackSchema.optional(),
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
  goals?: Goals | undefined;
  fallback?: Fallback | undefined;
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
    checkCallKeys(w, i, source!);
  });
  const audience = parseAudience(source!, registry);
  checkGoals(c.goals, c.fallback, audience, source!);
  if (opts.fresh) {
    checkOffers(c.offers, audience, source!);
    checkBookingsCount(c.waves, c.response_kinds, source!);
    // The landing page's booking slots (`booking:`), read by the page with its own schema.
    checkBooking(path, source!.text);
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
    goals: c.goals,
    fallback: c.fallback,
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

/** The call keys belong to call waves, and a call wave's script is one template (no A/B variants). */
function checkCallKeys(wave: Wave, index: number, source: YamlSource): void {
  const at = (key: string) => `${source.where(['waves', index, key])}: waves[${index}].${key}`;
  if (wave.channel !== 'call') {
    const key = CALL_KEYS.find((k) => wave[k] !== undefined);
    if (key)
      throw new UserError(
        `${at(key)}: only call waves take ${key}; wave ${wave.name} is a ${wave.channel} wave`,
        ExitCode.badInput,
      );
    return;
  }
  if (typeof wave.template !== 'string')
    throw new UserError(
      `${at('template')}: a call wave has one call script, e.g. template: wealth-call-script (no variants)`,
      ExitCode.badInput,
    );
}

/** A booking made on a call is a response: without `appointment` among the kinds, `to: non-responders` would call or text those who booked. */
function checkBookingsCount(waves: Wave[], kinds: string[], source: YamlSource): void {
  const index = waves.findIndex((w) => w.channel === 'call');
  if (index < 0 || kinds.includes('appointment')) return;
  throw new UserError(
    `${source.where(['response_kinds'])}: response_kinds: wave ${waves[index]!.name} is a call wave, whose bookings are appointment responses; add appointment to response_kinds (now ${kinds.join(', ')})`,
    ExitCode.badInput,
  );
}

/** A fallback extends a ranked audience (audience.top) beyond its n, and checks the responses goal's pace. */
function checkGoals(goals: Goals | undefined, fallback: Fallback | undefined, audience: Audience, source: YamlSource) {
  if (!fallback) return;
  const at = (key: string) => `${source.where(['fallback', key])}: fallback.${key}`;
  const top = audience.segment.top;
  if (!top)
    throw new UserError(
      `${source.where(['fallback'])}: fallback: extends a ranked audience; give the audience a top (e.g. top: { n: 500, by: wealth_assets })`,
      ExitCode.badInput,
    );
  if (fallback.extend_to <= top.n)
    throw new UserError(
      `${at('extend_to')}: ${fallback.extend_to} must be more than the audience's top n (${top.n})`,
      ExitCode.badInput,
    );
  if (fallback.below_pace && !goals?.responses)
    throw new UserError(
      `${at('below_pace')}: the pace is the responses goal's; add goals: { responses: { kind, target, by } }, or below_pace: false to extend at check_at whatever the responses`,
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
