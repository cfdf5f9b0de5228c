// The signed, expiring link to a manager's page: /calls/<token>, where the token carries the
// campaign and the manager (pipeline/calls/signed-link.ts signs and checks it).
import { z } from 'zod';
import { linkKind } from './signed-link.ts';

export interface ManagerLink {
  campaignId: number;
  manager: string;
  expiresAt: Date;
}

const managerLinks = linkKind(
  'calls-page',
  'calls-form',
  z.strictObject({ c: z.number().int().positive(), m: z.string().min(1) }),
);

export function signManagerLink(secret: string, link: ManagerLink): string {
  return managerLinks.sign(secret, { c: link.campaignId, m: link.manager }, link.expiresAt);
}

export type LinkCheck =
  { ok: true; link: ManagerLink } | { ok: false; reason: 'forged' | 'expired'; link?: ManagerLink };

export function checkManagerLink(secret: string, token: string, now = new Date()): LinkCheck {
  const check = managerLinks.check(secret, token, now);
  const link =
    check.value && check.expiresAt
      ? { campaignId: check.value.c, manager: check.value.m, expiresAt: check.expiresAt }
      : undefined;
  if (check.ok) return { ok: true, link: link! };
  return link ? { ok: false, reason: check.reason, link } : { ok: false, reason: check.reason };
}

/** The form token of one task on one link: a post without it (another site's form) is refused. */
export const formToken = (secret: string, token: string, taskId: number): string =>
  managerLinks.formToken(secret, token, taskId);

export const checkFormToken = (secret: string, token: string, taskId: number, given: string): boolean =>
  managerLinks.checkFormToken(secret, token, taskId, given);
