// `mailroom proof CAMPAIGN.yaml --customer ID`: what a customer would get, before anything is sent.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { formatTable, printJson, say } from '../output.ts';
import { positiveInt } from '../parse-options.ts';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { installationSecret } from '../../config/secret.ts';
import { memberSource } from '../../pipeline/render/members.ts';
import { writeProofs } from '../../pipeline/render/proof.ts';
import { parseAsOf } from './segment.ts';

interface ProofFlags {
  customer?: string[];
  sample?: number;
  wave?: string;
  out?: string;
  asOf?: string;
  json?: boolean;
}

export function registerProof(program: Command): void {
  program
    .command('proof <campaign>')
    .description('render what customers would get from each wave: letter.pdf (+ .png), email.eml, sms.txt')
    .option('--customer <id...>', "customers by external_id (or Mailroom's numeric id)")
    .option('--sample <n>', 'N members of the audience, drawn at random but the same each time', positiveInt)
    .option('--wave <name>', 'only this wave')
    .option('--out <dir>', 'where to write (default proofs/<campaign>/)')
    .option('--as-of <date>', 'the date the messages carry')
    .option('--json', 'list the files as JSON')
    .action(async (file: string, flags: ProofFlags) => {
      if (!flags.customer?.length && !flags.sample)
        throw new UserError('name customers with --customer ID, or ask for --sample N', ExitCode.usage);
      const ctx = context({ quiet: flags.json === true });
      const campaign = loadCampaign(file);
      if (flags.wave && !campaign.waves.some((w) => w.name === flags.wave)) {
        throw new UserError(
          `${campaign.file} has no wave "${flags.wave}"; its waves: ${campaign.waves.map((w) => w.name).join(', ')}`,
          ExitCode.badInput,
        );
      }
      const asOf = parseAsOf(flags.asOf);
      const out = resolve(flags.out ?? `proofs/${campaign.slug}`);
      const results = await withDatabase(ctx, async (sql) => {
        const ids: number[] = [];
        for (const given of flags.customer ?? []) {
          // An external_id match wins over Mailroom's numeric id.
          const [row] = await sql<{ id: number }[]>`
            select id from customers where external_id = ${given} or (${/^\d+$/.test(given)} and id = ${/^\d+$/.test(given) ? Number(given) : 0})
            order by (external_id = ${given}) desc limit 1`;
          if (!row) throw new UserError(`no customer with external_id or id "${given}"`, ExitCode.badInput);
          ids.push(row.id);
        }
        if (flags.sample) {
          const { rows } = await memberSource(sql, campaign, asOf);
          const picked = await sql<{ customer_id: number }[]>`
            select customer_id from (${rows}) a where a.suppression_reason is null and not a.holdout
            order by mailroom_hash_unit(${`${campaign.slug}:proof:`}::text || a.customer_id::text) limit ${flags.sample}`;
          ids.push(...picked.map((p) => p.customer_id));
        }
        return writeProofs(sql, campaign, {
          out,
          customerIds: ids,
          wave: flags.wave,
          asOf,
          secret: installationSecret(ctx.env, ctx.paths),
          trackingUrl: ctx.env.MAILROOM_TRACKING_URL,
          from: ctx.env.MAILROOM_FROM,
        });
      });
      if (flags.json) return printJson(results);
      say(`Proofs in ${out}:`);
      say(
        formatTable(
          results.map((r) => ({
            customer: r.external_id,
            status: r.status,
            why: r.reason ?? '',
            files: r.files.map((f) => f.slice(out.length + 1)).join('  '),
          })),
        ),
      );
    });
}
