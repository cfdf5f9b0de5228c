// The personal landing page (the PURL, and the letter's QR code) as a Handlebars template of the
// campaign. Which file, for a customer whose locale is e.g. zh-CN:
//   1. the folder named by the campaign file's `landing:` (resolved like a wave's template),
//   2. else each wave's template folder, in the file's order,
//   3. else the shipped default, templates/landing/;
// the first of these folders holding landing.zh-CN.html.hbs, landing.zh.html.hbs or
// landing.html.hbs (in that order) gives the page. The template is a whole HTML document; it sees
// what an email template sees (customer, campaign, offer, response_code, purl, links, …) and
// `landing.source` ("qr" or "purl") and `landing.title` (the campaign file's `title:`, null when
// the file has none: `description:` is the campaign's internal note and is never a page headline
// by default). Values are HTML-escaped. The campaign's file is read from where it was launched;
// a tracking server that cannot see that folder serves the shipped default.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Sql } from '../../db/connection.ts';
import { memberContext, type MemberRow, type RenderContext } from './context.ts';
import { MEMBER_COLUMNS } from './members.ts';
import { compilePart, type CompiledPart } from './template-source.ts';
import { SHIPPED_TEMPLATES, resolveTemplateDir } from './templates.ts';
import { unsubscribeUrl } from '../send/tracking-links.ts';
import { landingCandidates, landingFolder } from './landing-files.ts';
import { offerSchema, offerText } from '../campaign/campaign-file.ts';

export { landingCandidates, landingFolder };

export const SHIPPED_LANDING = join(SHIPPED_TEMPLATES, 'landing');

/** What the landing page needs of the campaign file as launched (campaigns.spec); anything else is ignored. */
const specSchema = z.object({
  file: z.string(),
  text: z.string(),
});
const fileSchema = z.looseObject({
  title: z.string().optional().catch(undefined),
  description: z.string().optional().catch(undefined),
  owner: z.string().optional().catch(undefined),
  offers: z.record(z.string(), offerSchema.transform(offerText)).catch({}).default({}),
  landing: z.string().min(1).optional().catch(undefined),
  waves: z
    .array(
      z.looseObject({
        template: z
          .union([z.string(), z.record(z.string(), z.string())])
          .optional()
          .catch(undefined),
      }),
    )
    .catch([])
    .default([]),
});

export interface LandingCampaign {
  slug: string;
  /** campaigns.name: the title, else the description, else the slug (what templates see as campaign.name). */
  name: string;
  title: string | null;
  description: string | null;
  owner: string | null;
  offers: Record<string, string>;
  /** Folders to look for a landing template in, the shipped default last. */
  folders: string[];
}

/** The campaign's landing settings from its stored file; a file that cannot be read gives the defaults. */
export function landingCampaign(slug: string, name: string, spec: unknown): LandingCampaign {
  const stored = specSchema.safeParse(spec);
  let parsed: z.infer<typeof fileSchema> | undefined;
  if (stored.success) {
    try {
      const result = fileSchema.safeParse(parseYaml(stored.data.text));
      if (result.success) parsed = result.data;
    } catch {
      parsed = undefined;
    }
  }
  const folders: string[] = [];
  if (stored.success && parsed) {
    const dir = dirname(stored.data.file);
    // A landing folder needs no template.yaml: any folder of that name beside the file will do.
    if (parsed.landing) folders.push(landingFolder(parsed.landing, dir));
    for (const w of parsed.waves) {
      const names = typeof w.template === 'string' ? [w.template] : Object.values(w.template ?? {});
      for (const n of names) {
        const folder = resolveTemplateDir(n, dir);
        if (!folders.includes(folder)) folders.push(folder);
      }
    }
  }
  folders.push(SHIPPED_LANDING);
  return {
    slug,
    name,
    title: parsed?.title ?? null,
    description: parsed?.description ?? null,
    owner: parsed?.owner ?? null,
    offers: parsed?.offers ?? {},
    folders,
  };
}

const compiled = new Map<string, { mtimeMs: number; part: CompiledPart }>();

/** The compiled template at `path`, compiled again when the file changed (an edit shows on the next visit). */
function templateAt(path: string): CompiledPart {
  const mtimeMs = statSync(path).mtimeMs;
  const cached = compiled.get(path);
  if (cached?.mtimeMs === mtimeMs) return cached.part;
  const part = compilePart(path, readFileSync(path, 'utf8'), { html: true });
  compiled.set(path, { mtimeMs, part });
  return part;
}

export interface LandingMember {
  campaignId: number;
  customerId: number;
}

/** What a landing template sees of booking (null when the campaign file has no `booking:`). */
export interface LandingBooking {
  /** The form's token (a form on another site cannot have it). */
  csrf: string;
  /** Open slots, in the branch's local time and the customer's language. */
  slots: { value: string; label: string; left: number }[];
  /** The customer's booking, once made. */
  booked: { label: string } | null;
  /** Just booked by this post. */
  just_booked: boolean;
  /** Why the post did not book: the slot filled up, or it is not offered any more. */
  refused: 'full' | 'not_offered' | null;
}

export type LandingContext = RenderContext & {
  landing: { source: 'qr' | 'purl'; title: string | null };
  booking: LandingBooking | null;
};

export interface RenderedLanding {
  html: string;
  /** The template file used. */
  file: string;
  /** A campaign template that failed (file:line and why), when the page fell back to the next one. */
  problems: string[];
}

/** The member's row as the render queries select it, or undefined when the member is gone. */
async function memberRow(sql: Sql, m: LandingMember): Promise<MemberRow | undefined> {
  const [row] = (await sql`
    select m.customer_id, ${MEMBER_COLUMNS(sql)}, m.rank, m.band, m.variant
    from campaign_members m join customers c on c.id = m.customer_id
    where m.campaign_id = ${m.campaignId} and m.customer_id = ${m.customerId}`) as unknown as MemberRow[];
  return row;
}

/**
 * The landing page of one campaign member. A campaign template that does not compile or render
 * (a field that is not in the data, say) is skipped for the next candidate, and said in `problems`;
 * the shipped default always renders.
 */
export async function renderLanding(
  sql: Sql,
  campaign: LandingCampaign,
  member: LandingMember,
  opts: {
    secret: string;
    trackingUrl: string;
    source: 'qr' | 'purl';
    asOf?: Date;
    /** The booking part of the page, for the customer's locale. */
    booking?: (locale: string) => Promise<LandingBooking | null>;
  },
): Promise<RenderedLanding | null> {
  const row = await memberRow(sql, member);
  if (!row) return null;
  const base = memberContext(
    row,
    {
      name: campaign.name,
      slug: campaign.slug,
      description: campaign.description,
      owner: campaign.owner,
      offers: campaign.offers,
    },
    { secret: opts.secret, trackingUrl: opts.trackingUrl, asOf: opts.asOf ?? new Date() },
  );
  const context: LandingContext = {
    ...base,
    // The signed unsubscribe link: the bare response code on this page's URL unsubscribes nobody.
    links: {
      ...base.links,
      unsubscribe: unsubscribeUrl(opts.trackingUrl, opts.secret, campaign.slug, row.customer_id),
    },
    landing: { source: opts.source, title: campaign.title },
    booking: opts.booking ? await opts.booking(row.locale || 'zh-CN') : null,
  };
  const problems: string[] = [];
  for (const file of landingCandidates(campaign.folders, row.locale || 'zh-CN')) {
    if (!existsSync(file)) continue;
    try {
      return { html: templateAt(file).render(context), file, problems };
    } catch (error) {
      if (file.startsWith(`${SHIPPED_LANDING}/`)) throw error;
      problems.push((error as Error).message);
    }
  }
  throw new Error(`no landing template found (the shipped default belongs in ${SHIPPED_LANDING})`);
}
