// The `mailroom` command line.
import { Command, CommanderError } from 'commander';
import { ExitCode, UserError } from '../config/errors.ts';

type Register = (program: Command) => void;

// Each module of commands with the top-level commands it registers, in the order of `--help`.
// Only the module of the command being run is loaded: a command then carries no memory or
// start-up time for the others (an import does not load the renderer or the Temporal client).
const COMMANDS: { names: string[]; load: () => Promise<Register> }[] = [
  { names: ['dev'], load: async () => (await import('./commands/dev.ts')).registerDev },
  { names: ['worker'], load: async () => (await import('./commands/worker.ts')).registerWorker },
  { names: ['server'], load: async () => (await import('./commands/server.ts')).registerServer },
  { names: ['db'], load: async () => (await import('./commands/db.ts')).registerDb },
  { names: ['import'], load: async () => (await import('./commands/import.ts')).registerImport },
  { names: ['seed'], load: async () => (await import('./commands/seed.ts')).registerSeed },
  { names: ['segment'], load: async () => (await import('./commands/segment.ts')).registerSegment },
  { names: ['print'], load: async () => (await import('./commands/print.ts')).registerPrint },
  { names: ['proof'], load: async () => (await import('./commands/proof.ts')).registerProof },
  {
    names: ['launch', 'status', 'pause', 'resume', 'cancel', 'skip-wait', 'mail'],
    load: async () => (await import('./commands/campaign.ts')).registerCampaign,
  },
  { names: ['report'], load: async () => (await import('./commands/report.ts')).registerReport },
  { names: ['schedule'], load: async () => (await import('./commands/schedule.ts')).registerSchedule },
  { names: ['setup'], load: async () => (await import('./commands/setup.ts')).registerSetup },
  { names: ['doctor'], load: async () => (await import('./commands/doctor.ts')).registerDoctor },
  { names: ['demo'], load: async () => (await import('./commands/demo.ts')).registerDemo },
  { names: ['contacts'], load: async () => (await import('./commands/contacts.ts')).registerContacts },
  { names: ['customers'], load: async () => (await import('./commands/customers.ts')).registerCustomers },
  { names: ['calls'], load: async () => (await import('./commands/calls.ts')).registerCalls },
  { names: ['visit'], load: async () => (await import('./commands/visit.ts')).registerVisit },
];

const program = new Command('mailroom')
  .description(
    'Database-marketing campaigns as durable Temporal workflows: segment, personalise, print, send, track, feed back.',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  // `dev --json` and `dev status --json` are different options of different commands.
  .enablePositionalOptions();

// `mailroom --help`, a misspelt command and the like see every command.
const named = COMMANDS.find((c) => c.names.includes(process.argv[2] ?? ''));
for (const c of named ? [named] : COMMANDS) (await c.load())(program);

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
