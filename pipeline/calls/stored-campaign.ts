// A launched campaign as stored (campaigns.spec: its file name and text), read for the human
// channel: its title, owner, offers with their stock and unit cost, and its call waves. Only the
// keys this needs are read, with schemas of their own, so the rest of the file may change.
import { z } from 'zod';
import { ExitCode, UserError } from '../../config/errors.ts';
import { YamlSource, formatPath } from '../../config/yaml-file.ts';
import type { Sql } from '../../db/connection.ts';
import { offerSchema } from '../campaign/campaign-file.ts';

export const offersSchema = z.record(z.string(), offerSchema).default({});

export interface Offer {
  key: string;
  text: string;
  stock: number | null;
  unitCost: number | null;
}

/** A call wave's keys as the stored campaign file has them: `{ name, channel: call, template, assign_by, unassigned, due_within, attempts }`. */
export const callWaveSchema = z.looseObject({
  name: z.string(),
  channel: z.literal('call'),
  template: z.string().min(1).default('wealth-call-script'),
  assign_by: z.string().default('account_manager'),
  unassigned: z.string().min(1).default('unassigned'),
  due_within: z.string().optional(),
  attempts: z.number().int().min(1).default(3),
});
export type CallWave = z.infer<typeof callWaveSchema>;

const storedSchema = z.looseObject({
  description: z.string().optional(),
  owner: z.string().optional(),
  offers: offersSchema,
  waves: z.array(z.looseObject({ channel: z.string().optional() })).default([]),
});

export interface StoredCampaign {
  id: number;
  slug: string;
  title: string;
  description: string | null;
  owner: string | null;
  file: string;
  offers: Map<string, Offer>;
  callWaves: CallWave[];
  snapshotAt: Date | null;
}

export function parseOffers(raw: unknown, source?: YamlSource): Map<string, Offer> {
  const parsed = offersSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const path = ['offers', ...(i.path as (string | number)[])];
    throw new UserError(
      `${source ? `${source.where(path)}: ` : ''}${formatPath(path)}: ${i.message} (an offer is its text, or { text, stock, unit_cost })`,
      ExitCode.badInput,
    );
  }
  return new Map(
    Object.entries(parsed.data).map(([key, o]) => [
      key,
      typeof o === 'string'
        ? { key, text: o, stock: null, unitCost: null }
        : { key, text: o.text, stock: o.stock ?? null, unitCost: o.unit_cost ?? null },
    ]),
  );
}

export async function storedCampaign(sql: Sql, slug: string): Promise<StoredCampaign> {
  const [row] = await sql<
    { id: number; slug: string; name: string; spec: { file: string; text: string }; snapshot_at: Date | null }[]
  >`select id, slug, name, spec, snapshot_at from campaigns where slug = ${slug}`;
  if (!row)
    throw new UserError(
      `there is no campaign called ${slug}; launch it first (mailroom launch FILE), or check the name`,
      ExitCode.badInput,
    );
  const source = YamlSource.parse(row.spec.file, row.spec.text);
  const doc = storedSchema.safeParse(source.toJS() ?? {});
  if (!doc.success) {
    const i = doc.error.issues[0]!;
    throw new UserError(
      `${source.where(i.path as (string | number)[])}: ${formatPath(i.path as (string | number)[])}: ${i.message}`,
      ExitCode.badInput,
    );
  }
  const callWaves = doc.data.waves.flatMap((w, i) => {
    if (w.channel !== 'call') return [];
    const wave = callWaveSchema.safeParse(w);
    if (!wave.success) {
      const issue = wave.error.issues[0]!;
      const path = ['waves', i, ...(issue.path as (string | number)[])];
      throw new UserError(`${source.where(path)}: ${formatPath(path)}: ${issue.message}`, ExitCode.badInput);
    }
    return [wave.data];
  });
  return {
    id: row.id,
    slug: row.slug,
    title: row.name,
    description: doc.data.description ?? null,
    owner: doc.data.owner ?? null,
    file: row.spec.file,
    offers: parseOffers(doc.data.offers, source),
    callWaves,
    snapshotAt: row.snapshot_at,
  };
}
