// Signed, expiring links to the pages of the tracking server that people use with their hands:
// the account manager's page (/calls/<token>) and the branch staff's page (/visit/<token>). A
// token is a base64url JSON payload (what the page is for, and its expiry `e` in seconds) and an
// HMAC-SHA256 of it under the installation's secret and the page's purpose, so a manager's token
// is no branch token. An altered token fails the signature; an expired one is refused; neither
// ever reaches the database. Form tokens tie a form post to one link and one subject (a task, a
// customer): a form on another site cannot have one.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ExitCode, UserError } from '../../config/errors.ts';
import { durationMs } from '../campaign/names.ts';

function mac(secret: string, purpose: string, data: string): string {
  return createHmac('sha256', secret).update(`${purpose}:${data}`).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A token tying a form to one page (`token`: its link or code) and one subject, for one purpose. */
export function formTokenFor(secret: string, purpose: string, token: string, subject: string | number): string {
  return mac(secret, purpose, `${token}:${subject}`);
}

export function checkFormTokenFor(
  secret: string,
  purpose: string,
  token: string,
  subject: string | number,
  given: string,
): boolean {
  return sameText(given, formTokenFor(secret, purpose, token, subject));
}

export type SignedCheck<T> =
  { ok: true; value: T; expiresAt: Date } | { ok: false; reason: 'forged' | 'expired'; value?: T; expiresAt?: Date };

/** One kind of link: its purpose (part of what is signed) and the schema of its payload. */
export interface LinkKind<T extends Record<string, unknown>> {
  sign(secret: string, value: T, expiresAt: Date): string;
  check(secret: string, token: string, now?: Date): SignedCheck<T>;
  /** The form token of one subject (a task id, a customer id) on one link. */
  formToken(secret: string, token: string, subject: string | number): string;
  checkFormToken(secret: string, token: string, subject: string | number, given: string): boolean;
}

export function linkKind<T extends Record<string, unknown>>(
  purpose: string,
  formPurpose: string,
  schema: z.ZodType<T>,
): LinkKind<T> {
  const withExpiry = z.looseObject({ e: z.number().int().positive() });
  const formToken = (secret: string, token: string, subject: string | number) =>
    formTokenFor(secret, formPurpose, token, subject);
  return {
    sign(secret, value, expiresAt) {
      const payload = Buffer.from(JSON.stringify({ ...value, e: Math.floor(expiresAt.getTime() / 1000) })).toString(
        'base64url',
      );
      return `${payload}.${mac(secret, purpose, payload)}`;
    },
    check(secret, token, now = new Date()) {
      const [payload, signature, ...extra] = token.split('.');
      if (!payload || !signature || extra.length || !sameText(signature, mac(secret, purpose, payload)))
        return { ok: false, reason: 'forged' };
      let value: T;
      let expiresAt: Date;
      try {
        const raw: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
        const { e, ...rest } = withExpiry.parse(raw);
        value = schema.parse(rest);
        expiresAt = new Date(e * 1000);
      } catch {
        return { ok: false, reason: 'forged' };
      }
      if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired', value, expiresAt };
      return { ok: true, value, expiresAt };
    },
    formToken,
    checkFormToken: (secret, token, subject, given) => checkFormTokenFor(secret, formPurpose, token, subject, given),
  };
}

/** When a link made now for `--valid 7d` expires; a bad duration is a usage error. */
export function linkExpiry(valid: string, now = new Date()): Date {
  const ms = durationMs(valid);
  if (!Number.isFinite(ms) || ms <= 0)
    throw new UserError(`--valid ${valid}: a duration such as 36h, 7d or 2w`, ExitCode.usage);
  return new Date(now.getTime() + ms);
}

/** The public address of a page: the tracking URL, the page's route and the token. */
export const pageUrl = (trackingUrl: string, route: string, token: string): string =>
  `${trackingUrl.replace(/\/+$/, '')}/${route}/${token}`;
