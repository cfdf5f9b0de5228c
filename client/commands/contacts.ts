// `mailroom contacts CUSTOMER`: a customer's contact history across campaigns.
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { formatTable, printJson, say } from '../output.ts';
import { positiveInt } from '../parse-options.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { contactHistory, findCustomer } from '../../pipeline/contacts/contact-log.ts';

export function registerContacts(program: Command): void {
  program
    .command('contacts <customer>')
    .description(
      "a customer's contacts across campaigns in time order: calls, visits and handovers from the contact log, pieces sent (letters, emails, SMS) and responses",
    )
    .option('--limit <n>', 'show the latest N contacts', positiveInt, 200)
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      "\nCUSTOMER is the external id (as imported) or Mailroom's customer id.\nExit codes: 0 shown, 3 no such customer, 4 the database is unreachable.",
    )
    .action(async (ref: string, flags: { limit: number; json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const { customer, history } = await withDatabase(ctx, async (sql) => {
        const customer = await findCustomer(sql, ref);
        if (!customer) throw new UserError(`no customer has the external id or id "${ref}"`, ExitCode.badInput);
        return { customer, history: await contactHistory(sql, customer.id, { limit: flags.limit }) };
      });
      if (flags.json) return printJson({ customer, contacts: history });
      say(
        `${customer.full_name} (${customer.external_id}, id ${customer.id})${customer.account_manager ? `, account manager ${customer.account_manager}` : ''}: ${history.length} contacts`,
      );
      say(
        formatTable(
          history.map((h) => ({
            when: h.at.slice(0, 16).replace('T', ' '),
            channel: h.channel,
            campaign: h.campaign ?? '',
            who: h.who,
            purpose: h.purpose,
            outcome: h.outcome ?? '',
            next_step: h.next_step ?? '',
            note: h.note ?? '',
          })),
        ),
      );
    });
}
