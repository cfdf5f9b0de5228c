// `mailroom demo` (npm run demo): the stack, 10,000 seeded customers, and a look at them.
import type { Command } from 'commander';
import { context, withDatabase, withTemporalClient } from '../connect.ts';
import { runDemoCampaign } from '../demo-campaign.ts';
import { printCampaign } from './campaign.ts';
import { printReport } from './report.ts';
import { formatTable, say } from '../output.ts';
import { runStackCheck } from '../stack-check.ts';
import { startDetached } from '../../dev/stack.ts';
import { seedCustomers } from './seed.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { installationSecret } from '../../config/secret.ts';
import { previewAudience } from '../../pipeline/audience/preview.ts';
import { exportPrint } from '../../pipeline/render/print/export.ts';
import { writeProofs } from '../../pipeline/render/proof.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/wealth-month.yaml', import.meta.url));

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'start the embedded stack, seed 10,000 customers, show them, print and proof the sample campaign, then run it end to end',
    )
    .option('--customers <n>', 'how many customers to seed', '10000')
    .action(async (flags: { customers: string }) => {
      const ctx = context();
      say('Starting the embedded stack (PostgreSQL, Temporal dev server, worker)…');
      const { state, reused } = await startDetached(ctx.env, ctx.paths, ctx.say);
      say(reused ? 'Using the stack that is already running.' : 'Stack started.');
      const seeded = await seedCustomers(ctx, Number(flags.customers), 42);
      say(
        `Seeded ${seeded.customers} customers with ${seeded.orders} orders (${seeded.inserted} new, ${seeded.updated} updated).`,
      );
      const { tiers, regions } = await withDatabase(ctx, async (sql) => ({
        tiers: await sql`
          select attributes->>'tier' as tier, count(*)::int as customers,
                 to_char(sum((attributes->>'annual_spend')::numeric), 'FM999,999,999,990') as annual_spend_cny
          from customers group by 1
          order by min((attributes->>'annual_spend')::numeric) desc`,
        // In China the first two digits of the postal code name the province, whatever the
        // language the address is written in.
        regions: await sql`
          select coalesce(p.name, c.city || ' (' || c.country || ')', '(no address)') as province, count(*)::int as customers
          from customers c
          left join (values ('10', '北京市'), ('20', '上海市'), ('21', '江苏省'), ('31', '浙江省'), ('43', '湖北省'),
                            ('51', '广东省'), ('61', '四川省'), ('71', '陕西省')) as p(prefix, name)
            on c.country = 'CN' and left(c.postal_code, 2) = p.prefix
          group by 1 order by 2 desc limit 12`,
      }));
      say('\nCustomers by key-account tier (annual spend):');
      say(formatTable(tiers));
      say('\nCustomers by province:');
      say(formatTable(regions));
      // The savings bank's wealth month: its audience, a few print-ready letters and a proof set.
      const campaign = loadCampaign(EXAMPLE);
      const asOf = new Date();
      const demoDir = join(ctx.paths.home, 'demo');
      const { counts, job, proofs } = await withDatabase(ctx, async (sql) => {
        const preview = await previewAudience(
          { sql, registry: campaign.registry, asOf, frequencyCap: campaign.config.frequencyCap },
          campaign.audience,
          campaign.slug,
          { limit: 1, explain: false },
        );
        const common = {
          asOf,
          secret: installationSecret(ctx.env, ctx.paths),
          trackingUrl: ctx.env.MAILROOM_TRACKING_URL,
        };
        const printed = await exportPrint(sql, campaign, {
          ...common,
          out: join(demoDir, 'print'),
          wave: 'letter',
          perFile: 10,
          limit: 20,
          replace: true,
        });
        const sample = await sql<
          { id: number }[]
        >`select id from customers where external_id = ${preview.sample[0]?.external_id ?? 'S42-0000001'}`;
        const written = await writeProofs(sql, campaign, {
          ...common,
          out: join(demoDir, 'proofs'),
          customerIds: sample.map((r) => r.id),
          from: ctx.env.MAILROOM_FROM,
        });
        return { counts: preview.counts, job: printed, proofs: written };
      });
      say(`\nThe wealth-management month (examples/wealth-month.yaml): top 500 by assets in gift bands —`);
      say(
        `${counts.contactable} to contact, ${counts.holdout} held out, bands ${Object.entries(counts.bands)
          .map(([b, n]) => `${b} ${n}`)
          .join(', ')}.`,
      );
      say(
        `Print-ready letters (first ${job.pieces}, ${job.files.length} files, manifest.csv, job.json): ${join(demoDir, 'print')}`,
      );
      say(`Proofs of every wave for ${proofs.map((p) => p.external_id).join(', ')}: ${join(demoDir, 'proofs')}`);
      const check = await runStackCheck(ctx, 60);
      say(`\nA check workflow ran on Temporal and counted ${check.customers} customers in PostgreSQL.`);
      say(
        "\nNow the whole month as a durable workflow: the letter, the account managers' calls, branch visits with gifts, an email and an SMS to those not yet booked, the goals and the fallback check, offline responses, and the report.",
      );
      const run = await withTemporalClient(ctx, (client, target) =>
        withDatabase(ctx, (sql) =>
          runDemoCampaign(sql, client, campaign, {
            asOf,
            now: asOf,
            secret: installationSecret(ctx.env, ctx.paths),
            trackingUrl: ctx.env.MAILROOM_TRACKING_URL,
            taskQueue: target.taskQueue,
            dir: demoDir,
            say,
          }),
        ),
      );
      if (run.final) printCampaign(run.slug, run.final);
      // The analyst's view, recomputed from the database: rates with intervals, lift, cost.
      say('\nThe campaign report (`mailroom report ' + run.slug + '`):\n');
      printReport(run.report);
      say(`\nThe same report as one page: ${run.page}   (mailroom report ${run.slug} --html FILE)`);
      if (run.heldForQuietHours)
        say(
          'Some SMS wait for the end of quiet hours in their time zone (21:00–08:00); the campaign finishes on its own then. Follow it with `npx mailroom status ' +
            run.slug +
            '`.',
        );
      const letters = run.final.waves.find((w) => w.channel === 'mail')?.printDir;
      if (letters) say(`Print files of the letter wave: ${letters}`);
      say(`Email outbox: ${state.smtp?.outbox ?? 'SMTP_URL'}    SMS outbox: ${state.sms?.outbox ?? 'Twilio'}`);
      say(`\nTemporal UI   ${state.temporal.uiUrl ?? '(external cluster)'}`);
      say(`DATABASE_URL  ${state.databaseUrl}`);
      say('The stack keeps running; stop it with `npx mailroom dev stop`.');
    });
}
