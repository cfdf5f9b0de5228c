// One synthetic customer with orders history, consents and perhaps a suppression. Business rules
// follow the domain: key-account tiers by annual spend, member levels by cumulative spend.
import type { CustomerRecord, OrderRecord } from '../../pipeline/customers/records.ts';
import { Random } from './random.ts';
import { FieldError, parsePhone } from '../../pipeline/customers/fields.ts';
import {
  ACCOUNT_MANAGERS,
  CHINESE_FAMILY_NAMES,
  CHINESE_GIVEN_CHARS,
  COMPANY_WORDS,
  ENGLISH_FAMILY_NAMES,
  ENGLISH_GIVEN_NAMES,
  INDUSTRIES,
} from './names.ts';
import { ABROAD, CHINESE_CITIES, HONG_KONG } from './places.ts';

export interface SeedSuppression {
  channel: 'mail' | 'email' | 'sms';
  reason: 'hard_bounce' | 'sms_stop' | 'moved' | 'do_not_contact';
  byAddress: boolean;
}

export interface SeedCustomer {
  record: CustomerRecord;
  orders: OrderRecord[];
  suppression?: SeedSuppression;
}

export function keyAccountTier(annualSpend: number): string {
  if (annualSpend >= 5_000_000) return 'Diamond';
  if (annualSpend >= 1_000_000) return 'Platinum';
  if (annualSpend >= 500_000) return 'Gold';
  if (annualSpend >= 10_000) return 'VIP';
  return 'Standard';
}

export function memberLevel(cumulativeSpend: number): string {
  if (cumulativeSpend >= 3000) return 'Black';
  if (cumulativeSpend >= 2000) return 'Red';
  if (cumulativeSpend >= 1000) return 'Yellow';
  return 'None';
}

const MOBILE_PREFIXES = [
  '139',
  '138',
  '137',
  '136',
  '135',
  '150',
  '151',
  '158',
  '159',
  '186',
  '188',
  '189',
  '177',
  '180',
];
const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org'];
const DAY = 86_400_000;

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function money(amount: number): string {
  return (Math.round(amount * 100) / 100).toFixed(2);
}

type Person = Pick<CustomerRecord, 'full_name' | 'family_name' | 'given_name' | 'gender' | 'locale'> & {
  emailName: string;
};

function chinesePerson(rng: Random): Person {
  const [family, familyPinyin] = rng.weighted(CHINESE_FAMILY_NAMES.map(([f, p, w]) => [[f, p] as const, w] as const));
  const gender = rng.chance(0.5) ? 'female' : 'male';
  const pool = CHINESE_GIVEN_CHARS.filter(([, , lean]) => lean === 'x' || lean === (gender === 'female' ? 'f' : 'm'));
  const chars = Array.from({ length: rng.chance(0.7) ? 2 : 1 }, () => rng.pick(pool));
  return {
    family_name: family,
    given_name: chars.map((c) => c[0]).join(''),
    full_name: family + chars.map((c) => c[0]).join(''),
    gender,
    locale: 'zh-CN',
    emailName: `${familyPinyin}.${chars.map((c) => c[1]).join('')}`,
  };
}

function englishPerson(rng: Random): Person {
  const [given, gender] = rng.pick(ENGLISH_GIVEN_NAMES);
  const family = rng.pick(ENGLISH_FAMILY_NAMES);
  return {
    family_name: family,
    given_name: given,
    full_name: `${given} ${family}`,
    gender,
    locale: 'en',
    emailName: `${given}.${family}`.toLowerCase().replace(/[^a-z.]/g, ''),
  };
}

/** A number the import would accept: drawn until the phone-number rules call it valid. */
function validPhone(rng: Random, draw: () => string): string {
  for (let attempt = 0; ; attempt++) {
    const candidate = draw();
    try {
      return parsePhone(candidate, 'CN');
    } catch (error) {
      if (!(error instanceof FieldError) || attempt > 50) throw error;
    }
  }
}

type Place = Pick<
  CustomerRecord,
  'address_line1' | 'address_line2' | 'district' | 'city' | 'province' | 'postal_code' | 'country' | 'timezone'
> & { phone: string };

function mainlandPlace(rng: Random, english: boolean): Place {
  const city = rng.weighted(CHINESE_CITIES.map((c) => [c, c.weight] as const));
  const d = rng.int(0, city.districts.length - 1);
  const s = rng.int(0, city.streets.length - 1);
  const number = rng.int(1, 999);
  const building = rng.int(1, 30);
  const room = `${rng.int(1, 28)}${String(rng.int(1, 8)).padStart(2, '0')}`;
  const postal = `${city.postalPrefix}${String(rng.int(0, 9) * 10 + rng.int(0, 9)).padStart(2, '0')}`;
  return {
    country: 'CN',
    province: english ? undefined : city.province,
    city: english ? city.english.city : city.city,
    district: english ? city.english.districts[d] : city.districts[d],
    address_line1: english ? `${number} ${city.english.streets[s]}` : `${city.streets[s]}${number}号`,
    address_line2: english ? `Building ${building}, Room ${room}` : `${building}栋${room}室`,
    postal_code: postal,
    timezone: 'Asia/Shanghai',
    phone: validPhone(rng, () => `+86${rng.pick(MOBILE_PREFIXES)}${rng.digits(8)}`),
  };
}

function hongKongPlace(rng: Random): Place {
  const d = rng.int(0, HONG_KONG.districts.length - 1);
  return {
    country: 'HK',
    city: '香港',
    district: HONG_KONG.districts[d],
    address_line1: `${HONG_KONG.streets[d]}${rng.int(1, 300)}號`,
    address_line2: `${rng.int(2, 40)}樓${String.fromCharCode(65 + rng.int(0, 7))}室`,
    timezone: 'Asia/Hong_Kong',
    phone: validPhone(rng, () => `+852${rng.pick(['5', '6', '9'])}${rng.digits(7)}`),
  };
}

function abroadPlace(rng: Random): Place {
  const place = rng.pick(ABROAD);
  return {
    country: place.country,
    city: place.city,
    address_line1: `${rng.int(1, 250)} ${rng.pick(place.streets)}`,
    address_line2: rng.chance(0.5) ? `Flat ${rng.int(1, 40)}` : undefined,
    postal_code: rng.pick(place.postal),
    timezone: place.timezone,
    phone: validPhone(rng, () => `${place.phonePrefix}${rng.digits(place.country === 'US' ? 7 : 6)}`),
  };
}

export function generateCustomer(seed: number, index: number, asOf: Date): SeedCustomer {
  // Each customer has its own stream, so customer N is the same whatever the batch size.
  const rng = new Random((seed * 1_000_003 + index * 7919) ^ 0x5bd1e995);
  const now = asOf.getTime();
  const kind = rng.weighted([
    ['mainland', 84],
    ['english-mainland', 5],
    ['hong-kong', 5],
    ['abroad', 6],
  ] as const);
  const person = kind === 'mainland' || kind === 'hong-kong' ? chinesePerson(rng) : englishPerson(rng);
  const place =
    kind === 'hong-kong'
      ? hongKongPlace(rng)
      : kind === 'abroad'
        ? abroadPlace(rng)
        : mainlandPlace(rng, kind === 'english-mainland');
  if (kind === 'hong-kong') person.locale = 'zh-HK';
  const externalId = `S${seed}-${String(index).padStart(7, '0')}`;

  const isKeyAccount = rng.chance(0.06);
  const createdAt = rng.chance(0.02) ? now - rng.int(0, 29) * DAY : now - rng.int(30, 6 * 365) * DAY;
  // Purchases: a few dormant customers, most buying every few weeks.
  const orderCount = rng.weighted([
    [0, 8],
    [1, 12],
    [2, 12],
    [4, 20],
    [8, 25],
    [14, 15],
    [24, 8],
  ] as const);
  const dormant = rng.chance(0.3);
  const lastOrderAge = dormant ? rng.int(31, 400) : rng.int(0, 30);
  const orders: OrderRecord[] = [];
  let spend = 0;
  for (let o = 0; o < orderCount; o++) {
    const ageDays = o === 0 ? lastOrderAge : lastOrderAge + rng.int(1, 720);
    const when = Math.max(createdAt, now - ageDays * DAY - rng.int(0, 86_399) * 1000);
    const amount = isKeyAccount ? rng.logNormal(40_000, 1.0) : rng.logNormal(180, 0.9);
    spend += Math.round(amount * 100) / 100;
    orders.push({
      order_ref: `${externalId}-${String(o + 1).padStart(3, '0')}`,
      customer_external_id: externalId,
      amount: money(amount),
      currency: 'CNY',
      occurred_at: new Date(when).toISOString().replace('.000Z', 'Z'),
      channel: rng.weighted([
        ['store', 45],
        ['online', 35],
        ['branch', 12],
        ['phone', 8],
      ] as const),
    });
  }
  const annualSpend = isKeyAccount ? Math.round(rng.logNormal(450_000, 1.3)) : Math.round(rng.logNormal(2_500, 1.1));
  const cumulativeSpend = Math.round(spend * 100) / 100;
  const attributes: Record<string, string | number | boolean> = {
    annual_spend: annualSpend,
    tier: keyAccountTier(annualSpend),
    cumulative_spend: cumulativeSpend,
    member_level: memberLevel(cumulativeSpend),
    stored_value_balance: rng.chance(0.25) ? rng.int(0, 19) : rng.pick([100, 200, 500, 1000, 2000]) - rng.int(0, 90),
    points: Math.floor(cumulativeSpend),
    financial_assets: Math.round(rng.logNormal(180_000, 1.2) / 100) * 100,
  };
  if (isKeyAccount) {
    const [industry, industryZh] = rng.weighted(INDUSTRIES.map(([e, z, w]) => [[e, z] as const, w] as const));
    attributes.industry = industry;
    attributes.organisation = `${rng.pick(COMPANY_WORDS)}${industryZh}${rng.pick(['有限公司', '集团', '股份有限公司'])}`;
    attributes.postal_products = rng.int(1, 6);
  }
  if (isKeyAccount || Number(attributes.financial_assets) > 300_000)
    attributes.account_manager = rng.pick(ACCOUNT_MANAGERS);

  const age = rng.int(18, 85);
  const birthday = isoDate(now - age * 365.25 * DAY - rng.int(0, 364) * DAY);
  const hasEmail = rng.chance(0.92);
  const hasPhone = rng.chance(0.95);
  const record: CustomerRecord = {
    external_id: externalId,
    full_name: person.full_name,
    family_name: person.family_name,
    given_name: person.given_name,
    gender: person.gender,
    locale: person.locale,
    email: hasEmail ? `${person.emailName}${rng.int(1, 9999)}@${rng.pick(EMAIL_DOMAINS)}` : undefined,
    phone: hasPhone ? place.phone : undefined,
    address_line1: place.address_line1,
    address_line2: place.address_line2,
    district: place.district,
    city: place.city,
    province: place.province,
    postal_code: place.postal_code,
    country: place.country,
    birthday,
    timezone: place.timezone,
    created_at: new Date(createdAt).toISOString().replace('.000Z', 'Z'),
    attributes,
    consents: {
      mail: rng.chance(0.96) ? 'granted' : 'denied',
      email: hasEmail ? (rng.chance(0.9) ? 'granted' : 'denied') : undefined,
      sms: hasPhone ? (rng.chance(0.85) ? 'granted' : 'denied') : undefined,
    },
    defaults: {
      locale: person.locale ?? 'zh-CN',
      timezone: place.timezone ?? 'Asia/Shanghai',
      country: place.country ?? 'CN',
    },
  };
  const roll = rng.next();
  const suppression: SeedSuppression | undefined =
    roll < 0.003 && hasEmail
      ? { channel: 'email', reason: 'hard_bounce', byAddress: true }
      : roll < 0.005 && hasPhone
        ? { channel: 'sms', reason: 'sms_stop', byAddress: true }
        : roll < 0.007
          ? { channel: 'mail', reason: 'moved', byAddress: false }
          : undefined;
  return { record, orders, ...(suppression ? { suppression } : {}) };
}
