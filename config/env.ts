// Every environment variable Mailroom reads, validated once. README "Configuration" lists them.
import { z } from 'zod';
import { ExitCode, UserError } from './errors.ts';

export const DEFAULT_TRACKING_URL = 'http://127.0.0.1:8088';

/** Whether MAILROOM_TRACKING_URL was given; when not, the embedded stack's tracking server decides it. */
export function trackingUrlIsSet(source: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(source.MAILROOM_TRACKING_URL?.trim());
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const envSchema = z
  .object({
    MAILROOM_HOME: optionalText,
    MAILROOM_CACHE_DIR: optionalText,
    /** Where campaign mail waves write their print jobs; .mailroom/print by default. */
    MAILROOM_PRINT_DIR: optionalText,
    DATABASE_URL: optionalText.refine((v) => v === undefined || /^postgres(ql)?:\/\/[^\s]+$/.test(v), {
      message: 'expected postgres://user:password@host:port/database',
    }),
    TEMPORAL_ADDRESS: optionalText,
    TEMPORAL_NAMESPACE: optionalText.transform((v) => v ?? 'default'),
    TEMPORAL_TASK_QUEUE: optionalText.transform((v) => v ?? 'mailroom'),
    TEMPORAL_TLS_CERT: optionalText,
    TEMPORAL_TLS_KEY: optionalText,
    TEMPORAL_TLS_CA: optionalText,
    TEMPORAL_API_KEY: optionalText,
    TEMPORAL_CLI_PATH: optionalText,
    SMTP_URL: optionalText,
    /** An email provider's message lookup (GET …/messages/<Message-ID>), used to settle interrupted sends. */
    SMTP_LOOKUP_URL: optionalText,
    /** DKIM signing of email: all three or none (config/dkim.ts reads the key). */
    DKIM_DOMAIN: optionalText.refine(
      (v) => v === undefined || /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(v),
      {
        message: 'expected the signing domain, e.g. example.com',
      },
    ),
    DKIM_SELECTOR: optionalText.refine((v) => v === undefined || /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i.test(v), {
      message: 'expected the selector of the DNS record <selector>._domainkey.<domain>, e.g. mail2026',
    }),
    /** PEM text (\n escapes allowed) or the path of a PEM file. */
    DKIM_PRIVATE_KEY: optionalText,
    TWILIO_ACCOUNT_SID: optionalText,
    TWILIO_AUTH_TOKEN: optionalText,
    TWILIO_SANDBOX_URL: optionalText,
    MAILROOM_SECRET: optionalText,
    MAILROOM_FROM: optionalText.transform((v) => v ?? 'Mailroom <marketing@example.com>'),
    MAILROOM_TRACKING_URL: optionalText
      .refine((v) => v === undefined || /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(v), {
        message: 'expected the public base URL of the tracking server, e.g. https://t.example.com',
      })
      .transform((v) => v ?? DEFAULT_TRACKING_URL),
    /** The port `mailroom server` (and `mailroom dev`'s tracking server) listens on. */
    MAILROOM_TRACKING_PORT: optionalText
      .refine((v) => v === undefined || (/^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535), {
        message: 'expected a port number from 1 to 65535',
      })
      .transform((v) => (v === undefined ? undefined : Number(v))),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    // Half a DKIM set-up would send unsigned mail that the operator believes is signed.
    const dkim = ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'] as const;
    const missing = dkim.filter((name) => env[name] === undefined);
    if (missing.length > 0 && missing.length < dkim.length) {
      ctx.addIssue({
        code: 'custom',
        path: [missing[0]!],
        message: `DKIM signing needs ${dkim.join(', ')} together; set ${missing.join(' and ')} or unset the others`,
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? '?';
    const shown =
      name === 'DATABASE_URL'
        ? String(source[name]).replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
        : name === 'DKIM_PRIVATE_KEY' && source[name]
          ? '(hidden)'
          : source[name];
    throw new UserError(
      `environment variable ${name} is invalid: ${issue?.message} (value ${JSON.stringify(shown)})`,
      ExitCode.usage,
    );
  }
  return parsed.data;
}
