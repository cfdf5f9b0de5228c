// The signed, expiring link to a branch's staff page: /visit/<token>, where the token carries the
// campaign and the branch (pipeline/calls/signed-link.ts signs and checks it). The page records
// visits of that campaign only, and names the branch on every visit it records.
import { z } from 'zod';
import { linkKind } from '../calls/signed-link.ts';

export interface BranchLink {
  campaignId: number;
  branch: string;
  expiresAt: Date;
}

const branchLinks = linkKind(
  'visit-page',
  'visit-form',
  z.strictObject({ c: z.number().int().positive(), b: z.string().min(1) }),
);

export function signBranchLink(secret: string, link: BranchLink): string {
  return branchLinks.sign(secret, { c: link.campaignId, b: link.branch }, link.expiresAt);
}

export type BranchLinkCheck = { ok: true; link: BranchLink } | { ok: false; reason: 'forged' | 'expired' };

export function checkBranchLink(secret: string, token: string, now = new Date()): BranchLinkCheck {
  const check = branchLinks.check(secret, token, now);
  if (!check.ok) return { ok: false, reason: check.reason };
  return { ok: true, link: { campaignId: check.value.c, branch: check.value.b, expiresAt: check.expiresAt } };
}

/** The form token of the page's forms: `subject` is 'lookup' or the customer id being recorded. */
export const visitFormToken = (secret: string, token: string, subject: string | number): string =>
  branchLinks.formToken(secret, token, subject);

export const checkVisitFormToken = (secret: string, token: string, subject: string | number, given: string): boolean =>
  branchLinks.checkFormToken(secret, token, subject, given);
