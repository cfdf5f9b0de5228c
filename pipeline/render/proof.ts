// Proofs: exactly what given customers would get from each wave — the letter as PDF (and PNG of
// page 1 when poppler is installed), the email as an .eml file, the SMS text with its encoding
// and part count, the call script as their account manager would read it — so a marketer can
// check before anything is sent.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { emailMessage, type EmailEnvelope } from '../send/email-message.ts';
import type { Sql } from '../../db/connection.ts';
import { callWaveSpec, type LoadedCampaign, type Wave } from '../campaign/campaign-file.ts';
import { loadCallScript } from '../calls/call-script.ts';
import { findOnPath } from '../../config/executables.ts';
import { standingOf, type StandingStatus } from '../audience/standing.ts';
import { contextFor, type MemberRow, type RenderContext } from './context.ts';
import { customersAsMembers, memberBatches, memberSource } from './members.ts';
import { renderDocument } from './print/render-document.ts';
import { loadTemplate, renderEmail, renderSms } from './templates.ts';
import { waveTemplateDir } from '../campaign/wave-templates.ts';

export interface ProofOptions {
  out: string;
  customerIds: number[];
  wave?: string | undefined;
  asOf: Date;
  secret: string;
  trackingUrl: string;
  from: string;
}

export interface ProofResult {
  external_id: string;
  /** in the audience, holdout, excluded (kept out: suppressed, no consent, …), not in the audience. */
  status: StandingStatus;
  /** Why, for all but members who would be contacted. */
  reason: string | null;
  files: string[];
}

/** The message as the channel would send it, tracked links and pixel included; proof tokens carry no delivery, so clicks on a proof are not counted. */
export async function composeEmail(
  ctx: RenderContext,
  rendered: { subject: string; html: string; text: string },
  envelope: EmailEnvelope,
): Promise<Buffer> {
  const mail = new MailComposer(emailMessage(ctx, rendered, envelope));
  return new Promise((resolveBuild, reject) =>
    mail.compile().build((error, message) => (error ? reject(error) : resolveBuild(message))),
  );
}

async function proofWave(
  dir: string,
  wave: Wave,
  multiple: boolean,
  campaign: LoadedCampaign,
  ctx: RenderContext,
  opts: ProofOptions,
): Promise<string[]> {
  const base = (name: string) => join(dir, multiple ? `${wave.name}-${name}` : name);
  if (wave.channel === 'call') {
    const spec = callWaveSpec(wave);
    const manager = ctx.customer.attributes[spec.assignBy];
    const script = loadCallScript(String(wave.template), campaign.dir);
    const txt = base('call-script.txt');
    writeFileSync(
      txt,
      `${script.render(ctx, typeof manager === 'string' && manager ? manager : spec.unassigned)}\n\n--\n` +
        `to: ${ctx.customer.phone ?? '(no phone)'}\noutcomes: ${script.outcomes.map((o) => o.label).join(' / ')}\n`,
    );
    return [txt];
  }
  const template = loadTemplate(waveTemplateDir(campaign, wave, ctx.variant));
  if (template.channel === 'mail') {
    const pdf = base('letter.pdf');
    await renderDocument(template, [ctx], pdf, `${campaign.slug} ${wave.name} proof`);
    const files = [pdf];
    if (findOnPath('pdftoppm')) {
      const png = pdf.replace(/\.pdf$/, '');
      if (spawnSync('pdftoppm', ['-png', '-r', '110', '-f', '1', '-l', '1', '-singlefile', pdf, png]).status === 0)
        files.push(`${png}.png`);
    }
    return files;
  }
  if (template.channel === 'email') {
    const eml = base('email.eml');
    writeFileSync(
      eml,
      await composeEmail(ctx, renderEmail(template, ctx), {
        from: opts.from,
        date: opts.asOf,
        messageId: `<proof.${ctx.response_code}.${wave.name}@mailroom.invalid>`,
        tracking: { url: opts.trackingUrl, secret: opts.secret, delivery: null },
      }),
    );
    return [eml];
  }
  const sms = renderSms(template, ctx);
  const txt = base('sms.txt');
  writeFileSync(
    txt,
    `${sms.text}\n\n--\nto: ${ctx.customer.phone ?? '(no phone)'}\nencoding: ${sms.encoding}, ${sms.units} ${sms.encoding === 'GSM-7' ? 'septets' : 'UTF-16 units'}, ${sms.segments} part${sms.segments === 1 ? '' : 's'} (${sms.perSegment} per part)\n`,
  );
  return [txt];
}

/**
 * A folder per customer named by external id when the id is a safe name (letters of any script,
 * digits, . _ -); otherwise the cleaned id plus Mailroom's id, so two customers never share one
 * and no id can point outside --out.
 */
export function proofFolder(externalId: string, customerId: number): string {
  if (/^[\p{L}\p{N}_.-]+$/u.test(externalId) && !/^\.+$/.test(externalId)) return externalId;
  return `${externalId.replace(/[^\p{L}\p{N}_-]+/gu, '_')}-${customerId}`;
}

export async function writeProofs(sql: Sql, campaign: LoadedCampaign, opts: ProofOptions): Promise<ProofResult[]> {
  const waves = opts.wave ? campaign.waves.filter((w) => w.name === opts.wave) : campaign.waves;
  const results: ProofResult[] = [];
  const { rows, snapshotAt } = await memberSource(sql, campaign, opts.asOf);
  const inAudience = await sql<{ customer_id: number; holdout: boolean; suppression_reason: string | null }[]>`
    select customer_id, holdout, suppression_reason from (${rows}) a where customer_id = any(${opts.customerIds}::bigint[])`;
  const standing = await standingOf(sql, campaign, opts.asOf, opts.customerIds, inAudience, snapshotAt);
  const members: MemberRow[] = [];
  for await (const batch of memberBatches(sql, campaign, {
    asOf: opts.asOf,
    customerIds: opts.customerIds,
    everyone: true,
  }))
    members.push(...batch);
  const outside = opts.customerIds.filter((id) => !members.some((m) => m.customer_id === id));
  members.push(...(await customersAsMembers(sql, outside)));
  for (const row of members) {
    const ctx = contextFor(row, campaign, opts);
    const dir = join(opts.out, proofFolder(row.external_id, row.customer_id));
    mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    const counts: Record<string, number> = {};
    for (const w of waves) counts[w.channel] = (counts[w.channel] ?? 0) + 1;
    for (const wave of waves)
      files.push(...(await proofWave(dir, wave, (counts[wave.channel] ?? 0) > 1, campaign, ctx, opts)));
    const s = standing.get(row.customer_id)!;
    results.push({ external_id: row.external_id, status: s.status, reason: s.reason, files });
  }
  return results;
}
