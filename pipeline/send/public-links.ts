// Links printed on paper or sent in a message must reach the customer: a tracking URL on a
// loopback or private address (the dev stack's) works on this machine only. Printing or sending
// such links is refused unless the run is a demo or dev run, or the user says so.
import { isIP } from 'node:net';
import { ExitCode, UserError } from '../../config/errors.ts';

/** True for hosts a customer's phone or browser cannot reach: loopback, private, link-local, unspecified, *.local. */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal'))
    return true;
  const kind = isIP(host);
  if (kind === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return (
      a === 127 ||
      a === 10 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (kind === 6) {
    if (host === '::1' || host === '::') return true;
    if (host.startsWith('::ffff:')) return isLocalHost(host.slice(7));
    return /^(fc|fd|fe8|fe9|fea|feb)/.test(host);
  }
  return false;
}

export interface PublicLinkPolicy {
  /** A demo or dev run, or --allow-local-links: local links are fine. */
  allowLocal: boolean;
  /** What is about to carry the links, for the message: "print", "launch", "schedule". */
  action: string;
}

/** Refuses a tracking URL that customers cannot reach, naming MAILROOM_TRACKING_URL and the way out. */
export function checkPublicTrackingUrl(trackingUrl: string, policy: PublicLinkPolicy): void {
  if (policy.allowLocal) return;
  let host: string;
  try {
    host = new URL(trackingUrl).hostname;
  } catch {
    throw new UserError(
      `MAILROOM_TRACKING_URL "${trackingUrl}" is not a URL; set it to the public address of the tracking server, e.g. https://go.example.com`,
      ExitCode.badInput,
    );
  }
  if (!isLocalHost(host)) return;
  throw new UserError(
    `${policy.action}: the links would point at ${trackingUrl}, which customers cannot reach. ` +
      'Set MAILROOM_TRACKING_URL to the public address of the tracking server (e.g. https://go.example.com), ' +
      'or pass --allow-local-links for a test run on this machine.',
    ExitCode.badInput,
  );
}
