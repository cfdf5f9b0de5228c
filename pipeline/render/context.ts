// The data a template sees for one member. Every customer field and every known attribute is
// present (null when empty), so strict templates fail only on names that do not exist at all.
import { z } from 'zod';
import { KNOWN_ATTRIBUTES } from '../customers/import/mapping.ts';
import { salutationFor } from './helpers.ts';
import { purl, responseCode } from './codes.ts';
// The unsubscribe link carries its own signed token, not the response code printed on paper.
import { unsubscribeUrl } from '../send/tracking-links.ts';
import type { LoadedCampaign } from '../campaign/campaign-file.ts';
import { validateYaml } from '../../config/yaml-file.ts';

export const renderContextSchema = z.object({
  customer: z.object({
    id: z.number(),
    external_id: z.string(),
    full_name: z.string(),
    family_name: z.string().nullable(),
    given_name: z.string().nullable(),
    gender: z.string(),
    salutation: z.string(),
    locale: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    address_line1: z.string().nullable(),
    address_line2: z.string().nullable(),
    district: z.string().nullable(),
    city: z.string().nullable(),
    province: z.string().nullable(),
    postal_code: z.string().nullable(),
    country: z.string(),
    birthday: z.string().nullable(),
    timezone: z.string(),
    attributes: z.record(z.string(), z.unknown()),
  }),
  campaign: z.object({
    name: z.string(),
    slug: z.string(),
    description: z.string().nullable(),
    owner: z.string().nullable(),
  }),
  /** Who sends: the name and postal address an email's footer must show (campaign file `sender:`). */
  sender: z.object({ name: z.string().nullable(), postal_address: z.string().nullable() }),
  rank: z.number().nullable(),
  band: z.string().nullable(),
  variant: z.string().nullable(),
  offer: z.string().nullable(),
  response_code: z.string(),
  purl: z.string(),
  links: z.object({ purl: z.string(), unsubscribe: z.string() }),
  today: z.string(),
});
export type RenderContext = z.infer<typeof renderContextSchema>;

/** A customer row as the render queries select it. */
export interface MemberRow {
  customer_id: number;
  external_id: string;
  full_name: string;
  family_name: string | null;
  given_name: string | null;
  gender: string;
  salutation: string | null;
  locale: string;
  email: string | null;
  phone: string | null;
  address_line1: string | null;
  address_line2: string | null;
  district: string | null;
  city: string | null;
  province: string | null;
  postal_code: string | null;
  country: string;
  birthday: string | null;
  timezone: string;
  attributes: Record<string, unknown>;
  rank: number | null;
  band: string | null;
  variant: string | null;
}

export interface CampaignInfo {
  name: string;
  slug: string;
  description?: string | null | undefined;
  owner?: string | null | undefined;
  offers: Record<string, string>;
  sender?: { name?: string | undefined; postal_address?: string | undefined } | undefined;
}

export function buildContext(
  row: MemberRow,
  campaign: CampaignInfo,
  codes: { responseCode: string; purl: string; unsubscribe: string },
  today: string,
): RenderContext {
  const attributes: Record<string, unknown> = Object.fromEntries(Object.keys(KNOWN_ATTRIBUTES).map((k) => [k, null]));
  Object.assign(attributes, row.attributes);
  const customer = {
    id: row.customer_id,
    external_id: row.external_id,
    full_name: row.full_name,
    family_name: row.family_name,
    given_name: row.given_name,
    gender: row.gender,
    salutation: '',
    locale: row.locale,
    email: row.email,
    phone: row.phone,
    address_line1: row.address_line1,
    address_line2: row.address_line2,
    district: row.district,
    city: row.city,
    province: row.province,
    postal_code: row.postal_code,
    country: row.country,
    birthday: row.birthday,
    timezone: row.timezone,
    attributes,
  };
  customer.salutation = salutationFor({ ...customer, salutation: row.salutation });
  return {
    customer,
    campaign: {
      name: campaign.name,
      slug: campaign.slug,
      description: campaign.description ?? null,
      owner: campaign.owner ?? null,
    },
    sender: {
      name: campaign.sender?.name ?? campaign.owner ?? null,
      postal_address: campaign.sender?.postal_address ?? null,
    },
    rank: row.rank,
    band: row.band,
    variant: row.variant,
    offer: row.band ? (campaign.offers[row.band] ?? null) : null,
    response_code: codes.responseCode,
    purl: codes.purl,
    links: { purl: codes.purl, unsubscribe: codes.unsubscribe },
    today,
  };
}

/** The context of one member of a campaign: its response code, PURL and unsubscribe link included. */
export function memberContext(
  row: MemberRow,
  campaign: CampaignInfo & { slug: string },
  opts: { secret: string; trackingUrl: string; asOf: Date },
): RenderContext {
  const code = responseCode(opts.secret, campaign.slug, row.customer_id);
  const base = opts.trackingUrl.replace(/\/+$/, '');
  return buildContext(
    row,
    campaign,
    {
      responseCode: code,
      purl: purl(base, code),
      unsubscribe: unsubscribeUrl(base, opts.secret, campaign.slug, row.customer_id),
    },
    opts.asOf.toISOString().slice(0, 10),
  );
}

export function contextFor(
  row: MemberRow,
  campaign: LoadedCampaign,
  opts: { secret: string; trackingUrl: string; asOf: Date },
): RenderContext {
  return memberContext(row, campaignInfo(campaign), opts);
}

/**
 * The campaign file's `sender: { name, postal_address }`: whom an email's footer names, and the
 * postal address the law asks of a marketing email (name defaults to owner:). The campaign file's
 * schema lets keys it does not know through; this reads and checks that one.
 */
const senderSchema = z.looseObject({
  sender: z.strictObject({ name: z.string().min(1).optional(), postal_address: z.string().min(1) }).optional(),
});

const infos = new WeakMap<LoadedCampaign, CampaignInfo>();

/** What templates see of a campaign. */
export function campaignInfo(campaign: LoadedCampaign): CampaignInfo {
  let info = infos.get(campaign);
  if (!info) {
    info = {
      name: campaign.title,
      slug: campaign.slug,
      description: campaign.description,
      owner: campaign.owner,
      offers: campaign.offers,
      sender: campaign.source ? validateYaml(campaign.source, senderSchema).sender : undefined,
    };
    infos.set(campaign, info);
  }
  return info;
}
