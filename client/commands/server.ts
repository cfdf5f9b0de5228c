// `mailroom server`: the tracking and webhook server alone, for production behind a load balancer.
import type { Command } from 'commander';
import { context } from '../connect.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { say } from '../output.ts';
import { trackingUrlIsSet } from '../../config/env.ts';
import { logger } from '../../config/logger.ts';
import { existingSecret } from '../../config/secret.ts';
import { readStackState } from '../../dev/stack-state.ts';
import { runTrackingServer } from '../../server/run-server.ts';

function portOption(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port < 1 || port > 65535)
    throw new UserError(`--port: expected a port number from 1 to 65535, got ${JSON.stringify(value)}`, ExitCode.usage);
  return port;
}

export function registerServer(program: Command): void {
  program
    .command('server')
    .description(
      'run the tracking server: clicks, opens, PURL and QR landings, unsubscribe, Twilio webhooks; until SIGINT/SIGTERM',
    )
    .option('--port <n>', 'port to listen on (default MAILROOM_TRACKING_PORT, else 8088)', portOption)
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .addHelpText(
      'after',
      [
        '',
        'Uses DATABASE_URL (or the running `mailroom dev` stack), MAILROOM_SECRET (the one the worker signs links with),',
        'MAILROOM_TRACKING_URL (the public URL it is reached at; Twilio signs webhooks for it) and TWILIO_AUTH_TOKEN.',
        'It keeps no state of its own: run as many as you like behind a load balancer.',
      ].join('\n'),
    )
    .action(async (flags: { port?: number; host: string }) => {
      const ctx = context();
      const { env } = ctx;
      const stack = readStackState(ctx.paths);
      const databaseUrl = env.DATABASE_URL ?? stack?.databaseUrl;
      if (!databaseUrl)
        throw new UserError(
          'the tracking server needs DATABASE_URL, or a running stack (`mailroom dev --detach` runs a tracking server of its own)',
          ExitCode.unavailable,
        );
      // A secret made up here would match no link ever sent: refuse rather than generate one.
      const secret = existingSecret(env, ctx.paths);
      if (!secret)
        throw new UserError(
          `the tracking server needs the secret the worker signs links and response codes with: set MAILROOM_SECRET (or run it where ${ctx.paths.home}/secret is)`,
          ExitCode.usage,
        );
      if (!trackingUrlIsSet() && flags.host !== '127.0.0.1') {
        ctx.say(
          `MAILROOM_TRACKING_URL is not set: links and Twilio signatures assume ${env.MAILROOM_TRACKING_URL}. Set it to this server's public URL.`,
        );
      }
      const port = flags.port ?? env.MAILROOM_TRACKING_PORT ?? 8088;
      const server = await runTrackingServer({
        databaseUrl,
        secret,
        trackingUrl: env.MAILROOM_TRACKING_URL,
        twilioAuthToken: env.TWILIO_AUTH_TOKEN ?? stack?.sms?.authToken,
        // Where inbound messages' received times are asked, so STOP and START apply in the order sent.
        twilioApiUrl: env.TWILIO_AUTH_TOKEN ? (env.TWILIO_SANDBOX_URL ?? 'https://api.twilio.com') : stack?.sms?.url,
        port,
        host: flags.host,
        log: logger().child({ part: 'tracking' }),
      });
      say(
        `Tracking server listening on ${flags.host}:${server.port}, public URL ${env.MAILROOM_TRACKING_URL}. Ctrl-C stops it.`,
      );
      await new Promise<void>((resolveSignal) => {
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolveSignal());
      });
      await server.stop();
    });
}
