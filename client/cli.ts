// The `mailroom` command line.
import { Command, CommanderError } from 'commander';
import { ExitCode, UserError } from '../config/errors.ts';
import { registerCampaign } from './commands/campaign.ts';
import { registerReport } from './commands/report.ts';
import { registerDb } from './commands/db.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDev } from './commands/dev.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerImport } from './commands/import.ts';
import { registerPrint } from './commands/print.ts';
import { registerProof } from './commands/proof.ts';
import { registerSchedule } from './commands/schedule.ts';
import { registerSeed } from './commands/seed.ts';
import { registerSegment } from './commands/segment.ts';
import { registerServer } from './commands/server.ts';
import { registerSetup } from './commands/setup.ts';
import { registerWorker } from './commands/worker.ts';
import { registerContacts } from './commands/contacts.ts';
import { registerCustomers } from './commands/customers.ts';
import { registerCalls } from './commands/calls.ts';
import { registerVisit } from './commands/visit.ts';

const program = new Command('mailroom')
  .description(
    'Database-marketing campaigns as durable Temporal workflows: segment, personalise, print, send, track, feed back.',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  // `dev --json` and `dev status --json` are different options of different commands.
  .enablePositionalOptions();

registerDev(program);
registerWorker(program);
registerServer(program);
registerDb(program);
registerImport(program);
registerSeed(program);
registerSegment(program);
registerPrint(program);
registerProof(program);
registerCampaign(program);
registerReport(program);
registerSchedule(program);
registerSetup(program);
registerDoctor(program);
registerDemo(program);
registerContacts(program);
registerCustomers(program);
registerCalls(program);
registerVisit(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here with code 0; usage errors were already printed.
    process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  } else if (error instanceof UserError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    const e = error as Error;
    process.stderr.write(`error: ${e.message}\n`);
    if (process.env.LOG_LEVEL === 'debug') process.stderr.write(`${e.stack}\n`);
    process.exitCode = ExitCode.failure;
  }
}
// Connections that linger (a pool closing, a gRPC channel) must not keep a finished command alive.
process.exit(process.exitCode ?? 0);
