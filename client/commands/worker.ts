// `mailroom worker`: one worker process; run as many as you like against the same task queue.
import type { Command } from 'commander';
import { context, resolveTemporal } from '../connect.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import type { Env } from '../../config/env.ts';
import { readStackState, type StackState } from '../../dev/stack-state.ts';
import { runWorker, type WorkerSettings } from '../../worker/run-worker.ts';
import { installationSecret } from '../../config/secret.ts';
import { dkimSettings } from '../../config/dkim.ts';
import type { TemporalTarget } from '../../config/temporal.ts';

/**
 * The providers a worker sends through. Each comes from its environment variables when they are
 * set; a worker that works for the running dev stack (its database and Temporal) otherwise takes
 * the stack's: its SMTP sink (or SMTP_URL) and message lookup, and its Twilio sandbox. A worker
 * beside the stack that lacked them failed every batch of the channel it could not serve.
 */
export function stackServices(
  env: Env,
  stack: StackState | undefined,
  used: { databaseUrl: string; temporal: TemporalTarget },
): Pick<WorkerSettings, 'smtpUrl' | 'smtpLookupUrl' | 'twilio'> {
  const beside =
    stack !== undefined &&
    used.databaseUrl === stack.databaseUrl &&
    used.temporal.address === stack.temporal.address &&
    used.temporal.namespace === stack.temporal.namespace;
  const smtp = env.SMTP_URL
    ? { url: env.SMTP_URL, lookupUrl: env.SMTP_LOOKUP_URL }
    : beside && stack.smtp
      ? { url: stack.smtp.url, lookupUrl: stack.smtp.lookupUrl }
      : beside && stack.smtpUrl
        ? { url: stack.smtpUrl, lookupUrl: stack.smtpLookupUrl }
        : undefined;
  const from = process.env.TWILIO_FROM ?? '+15005550006';
  const twilio =
    env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN
      ? {
          accountSid: env.TWILIO_ACCOUNT_SID,
          authToken: env.TWILIO_AUTH_TOKEN,
          sandboxUrl: env.TWILIO_SANDBOX_URL,
          from,
        }
      : beside && stack.sms && !env.TWILIO_ACCOUNT_SID
        ? { accountSid: stack.sms.accountSid, authToken: stack.sms.authToken, sandboxUrl: stack.sms.url, from }
        : undefined;
  return {
    smtpUrl: smtp?.url,
    smtpLookupUrl: smtp?.lookupUrl,
    twilio,
  };
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker: executes campaign workflows and activities until SIGINT/SIGTERM')
    .addHelpText(
      'after',
      "\nUses DATABASE_URL and TEMPORAL_ADDRESS (+ TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE), or the running `mailroom dev` stack.\nBeside the stack it also sends through the stack's SMTP sink and Twilio sandbox and links to its tracking server, unless SMTP_URL, TWILIO_ACCOUNT_SID or MAILROOM_TRACKING_URL say otherwise.",
    )
    .action(async () => {
      const ctx = context();
      const stack = readStackState(ctx.paths);
      const databaseUrl = ctx.env.DATABASE_URL ?? stack?.databaseUrl;
      if (!databaseUrl)
        throw new UserError(
          'the worker needs DATABASE_URL, or a running stack: start one with `mailroom dev --detach` (it runs a worker of its own)',
          ExitCode.unavailable,
        );
      const env = ctx.env;
      const temporal = resolveTemporal(ctx);
      await runWorker({
        databaseUrl,
        temporal,
        campaign: {
          secret: installationSecret(env, ctx.paths),
          // context() has already put the stack's tracking URL here unless MAILROOM_TRACKING_URL is set.
          trackingUrl: env.MAILROOM_TRACKING_URL,
          printDir: ctx.paths.print,
          from: env.MAILROOM_FROM,
          ...stackServices(env, stack, { databaseUrl, temporal }),
          dkim: dkimSettings(env),
        },
      });
    });
}
