// `mailroom visit CAMPAIGN --code C | --phone P | --customer ID`: a customer at the branch.
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { printJson, say } from '../output.ts';
import { giftStockTable } from '../gift-stock-table.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { installationSecret } from '../../config/secret.ts';
import { storedCampaign } from '../../pipeline/calls/stored-campaign.ts';
import { signBranchLink } from '../../pipeline/visits/branch-link.ts';
import { linkExpiry, pageUrl } from '../../pipeline/calls/signed-link.ts';
import { bookingOf } from '../../pipeline/calls/booking.ts';
import {
  giftStock,
  registerVisit as recordBranchVisit,
  type VisitLookup,
  type VisitResult,
} from '../../pipeline/visits/branch-visit.ts';

interface VisitFlags {
  code?: string;
  phone?: string;
  customer?: string;
  gift?: string;
  staff?: string;
  stock?: boolean;
  json?: boolean;
}

function describe(slug: string, r: VisitResult): { text: string; exit: number } {
  if (r.status === 'not_found' || r.status === 'ambiguous')
    return {
      text: r.message + (r.status === 'ambiguous' ? ` (${r.candidates.join(', ')})` : ''),
      exit: ExitCode.badInput,
    };
  const who = `${r.customer.full_name}（${r.customer.salutation}, ${r.customer.external_id}）${r.customer.account_manager ? `, account manager ${r.customer.account_manager}` : ''}`;
  if (r.status === 'not_member')
    return { text: `${who} is not in campaign ${slug}: no visit recorded, no gift.`, exit: ExitCode.badInput };
  const band = `rank ${r.member.rank ?? '—'}, band ${r.member.band ?? '—'}`;
  const entitled = r.member.holdout
    ? 'holdout (the baseline): the visit counts, no gift is offered'
    : r.entitled
      ? `entitled to ${r.entitled.text} (${r.entitled.key})`
      : 'no gift for this band';
  const gift = r.gift ? `${r.gift.offer}${r.gift.choice ? ` (${r.gift.choice})` : ''}` : 'no gift';
  const left = r.remaining !== null ? `; ${r.remaining} left` : '';
  if (r.status === 'out_of_stock')
    return {
      text: `${who}: ${band}; ${entitled}.\nRefused: ${r.gift?.offer ?? 'the gift'} is out of stock (${r.remaining ?? 0} left). No visit recorded; register it with --gift naming another offer.`,
      exit: ExitCode.badInput,
    };
  if (r.status === 'already')
    return {
      text: `${who}: ${band}; ${entitled}.\nAlready registered${r.visitedAt ? ` on ${r.visitedAt.slice(0, 16).replace('T', ' ')} UTC` : ''} with ${gift}; nothing new recorded.`,
      exit: ExitCode.ok,
    };
  return { text: `${who}: ${band}; ${entitled}.\nVisit recorded; handed out: ${gift}${left}.`, exit: ExitCode.ok };
}

export function registerVisit(program: Command): void {
  const cmd = program.command('visit <campaign>');
  cmd
    .command('link <campaign>')
    .description(
      "a signed, expiring link to the branch's staff page on the tracking server: look a customer up, see their gift and booking, record the visit",
    )
    .requiredOption('--branch <name>', 'the branch the page is for (named on every visit it records)')
    .option('--valid <duration>', 'how long the link works: 36h, 7d, 2w', '7d')
    .option('--json', 'print the link as JSON')
    .addHelpText(
      'after',
      '\nThe link is signed with the installation secret (MAILROOM_SECRET) and names the campaign: it records visits of that campaign only; an altered or expired link is refused and writes nothing. Send it to the branch only.\nExit codes: 0 printed, 2 a bad --valid, 3 unknown campaign, 4 the database is unreachable.',
    )
    .action(async (slug: string, flags: { branch: string; valid: string; json?: boolean }) => {
      const expiresAt = linkExpiry(flags.valid);
      const branch = flags.branch.trim();
      if (!branch) throw new UserError('--branch: name the branch', ExitCode.usage);
      const ctx = context({ quiet: flags.json === true });
      const campaign = await withDatabase(ctx, (sql) => storedCampaign(sql, slug));
      const token = signBranchLink(installationSecret(ctx.env, ctx.paths), {
        campaignId: campaign.id,
        branch,
        expiresAt,
      });
      const url = pageUrl(ctx.env.MAILROOM_TRACKING_URL, 'visit', token);
      if (flags.json) return printJson({ campaign: slug, branch, url, expiresAt: expiresAt.toISOString() });
      say(url);
      ctx.say(`For ${branch}: visits of ${slug}; the link works until ${expiresAt.toISOString()}.`);
    });
  cmd
    .description(
      'a customer at the branch: who they are, their band and gift, and one branch_visit recorded per customer per campaign',
    )
    .option('--code <code>', 'the response code printed on the letter (typed or scanned)')
    .option('--phone <number>', "the customer's phone number")
    .option('--customer <id>', 'the external id or customer id')
    .option('--gift <name>', "what was handed out: the choice within the band's offer (电风扇), or another offer's key")
    .option('--staff <name>', 'who registered the visit (goes to the contact log)')
    .option('--stock', 'show the gifts: stock, handed out, left, cost (records nothing)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      "\nA holdout customer's visit is recorded without a gift; a second visit records nothing new; a gift out of stock is refused with what remains.\nExit codes: 0 recorded (or already recorded), 2 wrong usage, 3 not found, not in the campaign, or out of stock, 4 the database is unreachable.",
    )
    .action(async (slug: string, flags: VisitFlags) => {
      const given = [flags.code, flags.phone, flags.customer].filter((v) => v !== undefined).length;
      if (!flags.stock && given !== 1)
        throw new UserError('name the customer with exactly one of --code, --phone or --customer', ExitCode.usage);
      const ctx = context({ quiet: flags.json === true });
      const secret = installationSecret(ctx.env, ctx.paths);
      if (flags.stock) {
        const stock = await withDatabase(ctx, async (sql) => giftStock(sql, await storedCampaign(sql, slug)));
        if (flags.json) return printJson({ campaign: slug, gifts: stock });
        return say(giftStockTable(stock));
      }
      const by: VisitLookup =
        flags.code !== undefined
          ? { code: flags.code }
          : flags.phone !== undefined
            ? { phone: flags.phone }
            : { customer: flags.customer! };
      const { result, booking } = await withDatabase(ctx, async (sql) => {
        const campaign = await storedCampaign(sql, slug);
        const result = await recordBranchVisit(sql, campaign, { by, gift: flags.gift, staff: flags.staff, secret });
        // The visit the customer booked on their landing page, if they did.
        const booked = 'member' in result ? await bookingOf(sql, campaign.id, result.customer.id) : null;
        return { result, booking: booked ? booked.slotAt.toISOString() : null };
      });
      const { text, exit } = describe(slug, result);
      if (flags.json) printJson({ campaign: slug, ...result, booking });
      else if (exit === ExitCode.ok)
        say(booking ? `${text}\nBooked online for ${booking.slice(0, 16).replace('T', ' ')} UTC.` : text);
      else process.stderr.write(`${text}\n`);
      process.exitCode = exit;
    });
}
