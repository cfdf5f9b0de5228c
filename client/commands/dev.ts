// `mailroom dev`: the embedded stack in the foreground (Ctrl-C stops it), or in the background.
import type { Command } from 'commander';
import { context, redactUrl } from '../connect.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { formatTable, printJson, say } from '../output.ts';
import { provisionStack, startDetached, startStack, stopRunningStack } from '../../dev/stack.ts';
import { readStackState, type StackState } from '../../dev/stack-state.ts';

function describe(state: StackState): string {
  return [
    `Temporal      ${state.temporal.address} (namespace ${state.temporal.namespace}, ${state.temporal.source === 'TEMPORAL_ADDRESS' ? 'TEMPORAL_ADDRESS' : `dev server from ${state.temporal.source}`})`,
    ...(state.temporal.uiUrl ? [`Temporal UI   ${state.temporal.uiUrl}`] : []),
    `DATABASE_URL  ${state.databaseUrl}`,
    `Worker        ${state.workerPid ? `pid ${state.workerPid}, task queue ${state.temporal.taskQueue}` : 'not started (--no-worker)'}`,
    `Email         ${email(state)}`,
    `SMS           ${state.sms ? `Twilio sandbox ${state.sms.url} → ${state.sms.outbox}` : 'Twilio (TWILIO_ACCOUNT_SID)'}`,
    ...(state.tracking
      ? [
          `Tracking      ${state.tracking.listen}${state.tracking.url === state.tracking.listen ? '' : ` (public URL ${state.tracking.url})`}: clicks, opens, PURLs, unsubscribe, Twilio webhooks`,
        ]
      : []),
    `Logs          ${state.logs}`,
    ...(state.portNotes ?? []).map((note) => `Note          ${note}`),
  ].join('\n');
}

function email(state: StackState): string {
  if (state.smtp) return `SMTP sink ${state.smtp.url} → ${state.smtp.outbox}`;
  if (state.smtpUrl)
    return `SMTP_URL ${redactUrl(state.smtpUrl)}${state.smtpLookupUrl ? `, lookup ${state.smtpLookupUrl}` : ''}`;
  // A stack started before the URL was recorded: the URL is in the environment it was started with.
  return 'SMTP_URL (the environment of `mailroom dev`)';
}

async function foreground(flags: { worker: boolean }): Promise<void> {
  const ctx = context();
  const stack = await startStack(ctx.env, ctx.paths, { worker: flags.worker, say: ctx.say });
  say('Mailroom dev stack is running. Ctrl-C stops it; data stays in ' + ctx.paths.home);
  say(describe(stack.state));
  const signal = new Promise<string>((resolveSignal) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolveSignal(sig));
  });
  // A part that dies is restarted (a line in the log says so); only one that keeps dying ends up here.
  const reason = await Promise.race([signal, stack.failed]);
  const failedPart = !reason.startsWith('SIG');
  if (failedPart) process.stderr.write(`${reason}\n`);
  say('Stopping the worker, the tracking server, Temporal and PostgreSQL…');
  await stack.stop();
  say('Stopped.');
  if (failedPart) process.exitCode = ExitCode.failure;
}

export function registerDev(program: Command): void {
  const dev = program
    .command('dev')
    .description(
      'run the embedded stack: PostgreSQL, the Temporal dev server, a worker, the tracking server, an SMTP sink and a Twilio sandbox',
    )
    .option('--detach', 'start in the background and return once ready (reuses a running stack)')
    .option('--no-worker', 'do not start a worker')
    .option('--json', 'with --detach: print the stack as JSON')
    .addHelpText(
      'after',
      '\nData (customers, Temporal history) lives in .mailroom/ and survives restarts.\nDATABASE_URL or TEMPORAL_ADDRESS replace the embedded part with your own server.',
    )
    .action(async (flags: { detach?: boolean; worker: boolean; json?: boolean }) => {
      if (!flags.detach) return foreground(flags);
      if (!flags.worker)
        throw new UserError('--no-worker goes only with the foreground `mailroom dev`', ExitCode.usage);
      const ctx = context({ quiet: flags.json === true });
      const { state, reused } = await startDetached(ctx.env, ctx.paths, ctx.say);
      if (flags.json) return printJson({ ...state, reused });
      say(reused ? 'A Mailroom dev stack is already running:' : 'Mailroom dev stack started in the background:');
      say(describe(state));
      say('Stop it with `mailroom dev stop`.');
    });

  dev
    .command('stop')
    .description('stop a stack started with `mailroom dev --detach`')
    .action(async () => {
      const ctx = context();
      say(
        (await stopRunningStack(ctx.paths)) ? 'Stopped the Mailroom dev stack.' : 'No Mailroom dev stack is running.',
      );
    });

  dev
    .command('status')
    .description('show the running stack, if any (exit 1 when none)')
    .option('--json', 'print as JSON')
    .action((flags: { json?: boolean }) => {
      const ctx = context();
      const state = readStackState(ctx.paths);
      if (flags.json) printJson(state ?? null);
      else
        say(
          state
            ? describe(state)
            : 'No Mailroom dev stack is running. Start one with `mailroom dev` or `mailroom dev --detach`.',
        );
      if (!state) process.exitCode = ExitCode.failure;
    });

  dev
    .command('provision')
    .description('get the Temporal CLI (building it once if needed) and create the PostgreSQL cluster; starts nothing')
    .option('--json', 'print what was found as JSON')
    .action(async (flags: { json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const result = await provisionStack(ctx.env, ctx.paths, ctx.say);
      if (flags.json) return printJson(result);
      say(
        formatTable([
          {
            part: 'Temporal',
            using:
              result.temporal.source === 'TEMPORAL_ADDRESS'
                ? `TEMPORAL_ADDRESS=${ctx.env.TEMPORAL_ADDRESS}`
                : `${'path' in result.temporal ? result.temporal.path : ''} (from ${result.temporal.source})`,
          },
          {
            part: 'PostgreSQL',
            using:
              result.database === 'DATABASE_URL'
                ? `DATABASE_URL=${redactUrl(ctx.env.DATABASE_URL!)}`
                : `embedded, data in ${ctx.paths.home}`,
          },
        ]),
      );
    });
}
