// `mailroom worker`: one worker process; run as many as you like against the same task queue.
import type { Command } from 'commander';
import { context, resolveTemporal } from '../connect.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { readStackState } from '../../dev/stack-state.ts';
import { runWorker } from '../../worker/run-worker.ts';
import { installationSecret } from '../../config/secret.ts';
import { dkimSettings } from '../../config/dkim.ts';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker: executes campaign workflows and activities until SIGINT/SIGTERM')
    .addHelpText(
      'after',
      '\nUses DATABASE_URL and TEMPORAL_ADDRESS (+ TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE), or the running `mailroom dev` stack.',
    )
    .action(async () => {
      const ctx = context();
      const databaseUrl = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
      if (!databaseUrl)
        throw new UserError(
          'the worker needs DATABASE_URL, or a running stack: start one with `mailroom dev --detach` (it runs a worker of its own)',
          ExitCode.unavailable,
        );
      const env = ctx.env;
      await runWorker({
        databaseUrl,
        temporal: resolveTemporal(ctx),
        campaign: {
          secret: installationSecret(env, ctx.paths),
          trackingUrl: env.MAILROOM_TRACKING_URL,
          printDir: ctx.paths.print,
          from: env.MAILROOM_FROM,
          smtpUrl: env.SMTP_URL,
          smtpLookupUrl: env.SMTP_LOOKUP_URL,
          dkim: dkimSettings(env),
          twilio:
            env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN
              ? {
                  accountSid: env.TWILIO_ACCOUNT_SID,
                  authToken: env.TWILIO_AUTH_TOKEN,
                  sandboxUrl: env.TWILIO_SANDBOX_URL,
                  from: process.env.TWILIO_FROM ?? '+15005550006',
                }
              : undefined,
        },
      });
    });
}
