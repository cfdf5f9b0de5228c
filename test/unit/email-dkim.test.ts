import { createHash, createVerify, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimSettings } from '../../config/dkim.ts';
import { readEnv } from '../../config/env.ts';
import { memberContext, type MemberRow } from '../../pipeline/render/context.ts';
import { loadTemplate, renderEmail, resolveTemplateDir } from '../../pipeline/render/templates.ts';
import { createEmailChannel, dkimOption } from '../../pipeline/send/email-channel.ts';
import { emailMessage } from '../../pipeline/send/email-message.ts';
import { readTrackingToken } from '../../pipeline/send/tracking-links.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { tempDir } from '../helpers/csv.ts';

const rsa = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const dkimEnv = { DKIM_DOMAIN: 'example.com', DKIM_SELECTOR: 'mail2026', DKIM_PRIVATE_KEY: rsa.privateKey };

const row: MemberRow = {
  customer_id: 7,
  external_id: 'C7',
  full_name: '王晓明',
  family_name: '王',
  given_name: '晓明',
  gender: 'male',
  salutation: null,
  locale: 'zh-CN',
  email: 'w@example.com',
  phone: null,
  address_line1: null,
  address_line2: null,
  district: null,
  city: null,
  province: null,
  postal_code: null,
  country: 'CN',
  birthday: null,
  timezone: 'Asia/Shanghai',
  attributes: {},
  rank: 1,
  band: null,
  variant: null,
};
const ctx = memberContext(
  row,
  { name: '财富管理月', slug: 'wealth', offers: {} },
  { secret: 's', trackingUrl: 'https://go.example.com', asOf: new Date('2026-12-01') },
);
const template = loadTemplate(resolveTemplateDir('wealth-reminder-email', '.'));
if (template.channel !== 'email') throw new Error('expected an email template');
const message = () =>
  emailMessage(ctx, renderEmail(template, ctx), {
    from: 'm@example.com',
    messageId: '<d1.wealth@mailroom>',
    tracking: { url: 'https://go.example.com', secret: 's', delivery: 1 },
  });

async function build(options: object): Promise<string> {
  const info = await nodemailer
    .createTransport({ streamTransport: true, buffer: true, ...options })
    .sendMail(message());
  return (info.message as Buffer).toString('utf8');
}

/** The DKIM-Signature's tags, and whether it verifies (relaxed/relaxed, rsa-sha256) under `publicKey`: what a receiving server checks. */
function checkDkim(raw: string, publicKey: string) {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split).split(/\r\n(?![ \t])/);
  const relaxed = (h: string) => {
    const colon = h.indexOf(':');
    return `${h.slice(0, colon).trim().toLowerCase()}:${h
      .slice(colon + 1)
      .replace(/\r\n/g, '')
      .replace(/[ \t]+/g, ' ')
      .trim()}`;
  };
  const signature = headers.find((h) => /^dkim-signature:/i.test(h));
  if (!signature) return null;
  const tags = Object.fromEntries(
    relaxed(signature)
      .slice('dkim-signature:'.length)
      .split(';')
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1).replace(/\s+/g, '')]),
  );
  // A bare LF, as the stream transport leaves some, is a line break: SMTP sends it as CRLF.
  const body = raw
    .slice(split + 4)
    .split(/\r?\n/)
    .map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
    .join('\r\n')
    .replace(/(\r\n)*$/, '\r\n');
  const bodyHashOk = createHash('sha256').update(body).digest('base64') === tags.bh;
  // Each signed header once, the last instance first (RFC 6376 5.4.2); then the signature without b=.
  const pool = headers.slice();
  const signed = String(tags.h)
    .split(':')
    .map((name) => {
      const at = pool.findLastIndex((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
      return at < 0 ? '' : `${relaxed(pool.splice(at, 1)[0]!)}\r\n`;
    })
    .join('');
  const own = relaxed(signature)
    .replace(/b=[^;]*$/, 'b=')
    .replace(/(;\s*b=)[^;]*(;|$)/, '$1$2');
  const verify = createVerify('RSA-SHA256').update(signed + own);
  return { tags, bodyHashOk, signatureOk: verify.verify(publicKey, String(tags.b), 'base64') };
}

function quotedPrintable(text: string): string {
  const bytes: number[] = [];
  const flat = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < flat.length; i++) {
    if (flat[i] === '=' && /^[0-9A-F]{2}$/.test(flat.slice(i + 1, i + 3))) {
      bytes.push(parseInt(flat.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(flat[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

describe('DKIM signing of email', () => {
  it('signs with the domain and selector of the settings, verifiably with the public key', async () => {
    const raw = await build(dkimOption(dkimSettings(readEnv(dkimEnv))));
    const check = checkDkim(raw, rsa.publicKey);
    expect(check).not.toBeNull();
    expect(check!.tags).toMatchObject({ a: 'rsa-sha256', d: 'example.com', s: 'mail2026' });
    expect(check!.tags.h).toMatch(/(^|:)from(:|$)/i);
    expect(check).toMatchObject({ bodyHashOk: true, signatureOk: true });
    // The same check fails under another key, so it is a check.
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    expect(checkDkim(raw, other.publicKey)!.signatureOk).toBe(false);
  });

  it('leaves messages unsigned without the settings', async () => {
    expect(dkimSettings(readEnv({}))).toBeUndefined();
    expect(await build(dkimOption(undefined))).not.toMatch(/^DKIM-Signature:/im);
  });

  it('reads the key as PEM text, as PEM with \\n escapes, or from a file', () => {
    const file = join(tempDir(), 'dkim.pem');
    writeFileSync(file, rsa.privateKey);
    const oneLine = rsa.privateKey.trim().replace(/\n/g, '\\n');
    for (const key of [rsa.privateKey, oneLine, file]) {
      expect(dkimSettings(readEnv({ ...dkimEnv, DKIM_PRIVATE_KEY: key }))).toEqual({
        domainName: 'example.com',
        keySelector: 'mail2026',
        privateKey: expect.stringMatching(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n?$/),
      });
    }
  });

  it('refuses half a set-up, a bad domain, a missing file and a key that is not RSA, never echoing the key', () => {
    expect(() => readEnv({ DKIM_DOMAIN: 'example.com', DKIM_PRIVATE_KEY: rsa.privateKey })).toThrow(
      'environment variable DKIM_SELECTOR is invalid: DKIM signing needs DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY together; set DKIM_SELECTOR or unset the others',
    );
    expect(() => readEnv({ ...dkimEnv, DKIM_DOMAIN: 'not a domain' })).toThrow(
      /DKIM_DOMAIN is invalid: expected the signing domain/,
    );
    const notAKey = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC';
    expect(() => dkimSettings(readEnv({ ...dkimEnv, DKIM_PRIVATE_KEY: notAKey }))).toThrow(
      /neither PEM text .* nor the path of a readable file/,
    );
    expect(() => dkimSettings(readEnv({ ...dkimEnv, DKIM_PRIVATE_KEY: notAKey }))).not.toThrow(notAKey);
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(() => dkimSettings(readEnv({ ...dkimEnv, DKIM_PRIVATE_KEY: ec.privateKey }))).toThrow(
      /does not hold an RSA private key/,
    );
    expect(() =>
      dkimSettings(
        readEnv({ ...dkimEnv, DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----' }),
      ),
    ).toThrow(/does not hold an RSA private key/);
  });
});

describe('the email channel with DKIM (real SMTP server)', () => {
  let sink: SmtpSink;
  const outbox = join(tempDir(), 'outbox');
  beforeAll(async () => {
    sink = await startSmtpSink(outbox, { port: await anyFreePort() });
  });
  afterAll(async () => {
    await sink.close();
  });

  it('sends a signed message under the delivery Message-ID, tracked in the HTML part', async () => {
    const channel = createEmailChannel({
      smtpUrl: sink.url,
      from: 'm@example.com',
      campaignSlug: 'wealth',
      trackingUrl: 'https://go.example.com',
      secret: 's',
      dkim: dkimSettings(readEnv(dkimEnv)),
      template: () => template,
    });
    try {
      expect(await channel.send({ deliveryId: 7, context: ctx })).toEqual({ providerId: '<d7.wealth@mailroom>' });
    } finally {
      await channel.close();
    }
    const raw = readFileSync(join(outbox, 'd7.wealth@mailroom.eml'), 'utf8');
    expect(checkDkim(raw, rsa.publicKey)).toMatchObject({
      tags: { d: 'example.com', s: 'mail2026' },
      bodyHashOk: true,
      signatureOk: true,
    });
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    const html = quotedPrintable(/Content-Type: text\/html[^]*?\r\n\r\n([^]*?)\r\n----/.exec(raw)![1]!);
    const click = /<a href="https:\/\/go\.example\.com\/c\/([^"]+)"/.exec(html)![1]!;
    expect(readTrackingToken('s', click)).toEqual({
      kind: 'click',
      campaign: 'wealth',
      code: ctx.response_code,
      delivery: 7,
      link: 0,
      url: ctx.purl,
    });
    expect(html).toMatch(/<img src="https:\/\/go\.example\.com\/o\/[^"]+\.gif" width="1" height="1" alt=""><\/body>/);
  });

  it('refuses to start without the secret that signs tracking links', () => {
    expect(() =>
      createEmailChannel({
        smtpUrl: sink.url,
        from: 'm@example.com',
        campaignSlug: 'wealth',
        trackingUrl: 'https://go.example.com',
        secret: '',
        template: () => template,
      }),
    ).toThrow(/MAILROOM_SECRET/);
  });
});
