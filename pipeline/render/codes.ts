// Personal response codes and PURLs. A code is an HMAC of (campaign, customer) under the
// installation's secret: unguessable without the secret, the same on every run, so a proof, a
// print run and the campaign itself agree without storing anything first.
import { createHmac } from 'node:crypto';

// Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is unambiguous.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_LENGTH = 10;

export function responseCode(secret: string, campaign: string, customerId: number): string {
  const digest = createHmac('sha256', secret).update(`${campaign}:${customerId}`).digest();
  let out = '';
  for (let i = 0; i < CODE_LENGTH; i++) out += ALPHABET[digest[i]! & 31];
  return out;
}

export function purl(trackingBaseUrl: string, code: string): string {
  return `${trackingBaseUrl.replace(/\/+$/, '')}/p/${code}`;
}
