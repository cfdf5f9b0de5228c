// The signed, expiring link to a manager's page: /calls/<token>, where the token carries the
// campaign, the manager and the expiry, signed with the installation's secret (HMAC-SHA256). An
// altered token fails the signature; an expired one is refused; neither ever reaches the database.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

const payloadSchema = z.strictObject({
  c: z.number().int().positive(),
  m: z.string().min(1),
  e: z.number().int().positive(),
});

export interface ManagerLink {
  campaignId: number;
  manager: string;
  expiresAt: Date;
}

function mac(secret: string, purpose: string, data: string): string {
  return createHmac('sha256', secret).update(`${purpose}:${data}`).digest('base64url');
}

export function signManagerLink(secret: string, link: ManagerLink): string {
  const payload = Buffer.from(
    JSON.stringify({ c: link.campaignId, m: link.manager, e: Math.floor(link.expiresAt.getTime() / 1000) }),
  ).toString('base64url');
  return `${payload}.${mac(secret, 'calls-page', payload)}`;
}

export type LinkCheck =
  { ok: true; link: ManagerLink } | { ok: false; reason: 'forged' | 'expired'; link?: ManagerLink };

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function checkManagerLink(secret: string, token: string, now = new Date()): LinkCheck {
  const [payload, signature, ...extra] = token.split('.');
  if (!payload || !signature || extra.length || !sameText(signature, mac(secret, 'calls-page', payload)))
    return { ok: false, reason: 'forged' };
  let parsed: z.infer<typeof payloadSchema>;
  try {
    parsed = payloadSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    return { ok: false, reason: 'forged' };
  }
  const link = { campaignId: parsed.c, manager: parsed.m, expiresAt: new Date(parsed.e * 1000) };
  if (link.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired', link };
  return { ok: true, link };
}

/** The form token of one task on one link: a post without it (another site's form) is refused. */
export function formToken(secret: string, token: string, taskId: number): string {
  return mac(secret, 'calls-form', `${token}:${taskId}`);
}

export function checkFormToken(secret: string, token: string, taskId: number, given: string): boolean {
  return sameText(given, formToken(secret, token, taskId));
}
