// Optional DKIM signing of outgoing email (DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY). The key
// is read and checked when the worker starts, so a bad key stops it with a message instead of
// failing every send. Messages never echo the key's value: it may be the key itself.
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ExitCode, UserError } from './errors.ts';
import type { Env } from './env.ts';

/** nodemailer's `dkim` transport option. */
export const dkimSettingsSchema = z.object({ domainName: z.string(), keySelector: z.string(), privateKey: z.string() });
export type DkimSettings = z.infer<typeof dkimSettingsSchema>;

const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export function dkimSettings(
  env: Pick<Env, 'DKIM_DOMAIN' | 'DKIM_SELECTOR' | 'DKIM_PRIVATE_KEY'>,
): DkimSettings | undefined {
  const { DKIM_DOMAIN: domainName, DKIM_SELECTOR: keySelector, DKIM_PRIVATE_KEY: key } = env;
  if (!domainName || !keySelector || !key) return undefined;
  let privateKey: string;
  if (PEM.test(key)) {
    // One-line PEM with \n escapes, as .env files and container settings often hold it.
    privateKey = key.includes('\n') ? key : key.replace(/\\n/g, '\n');
  } else if (existsSync(key)) {
    privateKey = readFileSync(key, 'utf8');
  } else {
    throw new UserError(
      'DKIM_PRIVATE_KEY is neither PEM text (-----BEGIN … PRIVATE KEY-----) nor the path of a readable file',
      ExitCode.usage,
    );
  }
  try {
    if (createPrivateKey(privateKey).asymmetricKeyType !== 'rsa') throw new Error('not RSA');
  } catch {
    throw new UserError(
      'DKIM_PRIVATE_KEY does not hold an RSA private key in PEM form (DKIM signs with rsa-sha256)',
      ExitCode.usage,
    );
  }
  return { domainName, keySelector, privateKey };
}
