// The installation's secret, which makes response codes unguessable. MAILROOM_SECRET in
// production (keep it stable: codes already printed depend on it); the embedded stack creates
// one in .mailroom/secret.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from './env.ts';
import type { Paths } from './paths.ts';

export function installationSecret(env: Env, paths: Paths): string {
  if (env.MAILROOM_SECRET) return env.MAILROOM_SECRET;
  const file = join(paths.home, 'secret');
  if (!existsSync(file)) {
    mkdirSync(paths.home, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

/** The secret if there is one already (MAILROOM_SECRET or .mailroom/secret), never a new one. */
export function existingSecret(env: Env, paths: Paths): string | undefined {
  if (env.MAILROOM_SECRET) return env.MAILROOM_SECRET;
  const file = join(paths.home, 'secret');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}
