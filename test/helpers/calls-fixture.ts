// A launched wealth-month campaign with a call wave, written straight into a test database: the
// campaign row (its stored file text, as `launch` stores it), customers with account managers,
// and the snapshot's members with ranks, bands and a holdout. Used by the calls, contacts and
// visit tests, which work on what a launch leaves behind.
import { join } from 'node:path';
import type { Sql } from '../../db/connection.ts';

export const SECRET = 'calls-test-secret';

export interface FixtureCustomer {
  key: string;
  name: string;
  family: string;
  gender: 'male' | 'female';
  phone: string;
  manager: string | null;
  rank: number;
  band: string | null;
  holdout?: boolean;
}

export const CUSTOMERS: FixtureCustomer[] = [
  {
    key: 'W1',
    name: '王建华',
    family: '王',
    gender: 'male',
    phone: '+8613800000001',
    manager: '周敏',
    rank: 1,
    band: 'gift-appliance',
  },
  {
    key: 'W2',
    name: '李秀英',
    family: '李',
    gender: 'female',
    phone: '+8613800000002',
    manager: '周敏',
    rank: 2,
    band: 'gift-appliance',
  },
  {
    key: 'W3',
    name: '张伟',
    family: '张',
    gender: 'male',
    phone: '+8613800000003',
    manager: '陈志强',
    rank: 3,
    band: 'gift-appliance',
  },
  {
    key: 'W4',
    name: '刘芳',
    family: '刘',
    gender: 'female',
    phone: '+8613800000004',
    manager: '陈志强',
    rank: 4,
    band: 'gift-oil',
  },
  {
    key: 'W5',
    name: '陈静',
    family: '陈',
    gender: 'female',
    phone: '+8613800000005',
    manager: null,
    rank: 5,
    band: 'gift-oil',
  },
  {
    key: 'W6',
    name: '杨洋',
    family: '杨',
    gender: 'male',
    phone: '+8613800000006',
    manager: null,
    rank: 6,
    band: 'gift-oil',
  },
  {
    key: 'W7',
    name: '赵磊',
    family: '赵',
    gender: 'male',
    phone: '+8613800000007',
    manager: '周敏',
    rank: 7,
    band: 'gift-oil',
    holdout: true,
  },
];

export function campaignText(slug: string, applianceStock = 2): string {
  return [
    `name: ${slug}`,
    'description: 财富管理月（测试）',
    'owner: 滨海邮储银行 招商路支行',
    'audience: { segment: everyone, channel: mail }',
    'offers:',
    `  gift-appliance: { text: 电风扇或电饭煲（二选一）, stock: ${applianceStock}, unit_cost: 325.09 }`,
    '  gift-oil: { text: 5 升装花生油一桶, stock: 100, unit_cost: 107.98 }',
    'waves:',
    '  - { name: letter, channel: mail, template: wealth-letter }',
    '  - { name: calls, channel: call, template: wealth-call-script, assign_by: account_manager, unassigned: 网点主任, due_within: 6d, attempts: 3 }',
  ].join('\n');
}

export interface Fixture {
  campaignId: number;
  slug: string;
  ids: Record<string, number>;
}

export async function createCampaignFixture(
  sql: Sql,
  slug: string,
  opts: { applianceStock?: number; dir?: string } = {},
): Promise<Fixture> {
  const ids: Record<string, number> = {};
  for (const c of CUSTOMERS) {
    const attributes = c.manager
      ? { account_manager: c.manager, financial_assets: 1_000_000 - c.rank }
      : { financial_assets: 1_000_000 - c.rank };
    const [row] = await sql<{ id: number }[]>`
      insert into customers (external_id, full_name, family_name, gender, phone, address_line1, city, postal_code, attributes)
      values (${`${slug}-${c.key}`}, ${c.name}, ${c.family}, ${c.gender}, ${c.phone}, '淮海路1号', '上海市', '200031', ${sql.json(attributes)})
      returning id`;
    ids[c.key] = row!.id;
  }
  const spec = { file: join(opts.dir ?? '/tmp', `${slug}.yaml`), text: campaignText(slug, opts.applianceStock) };
  const [campaign] = await sql<{ id: number }[]>`
    insert into campaigns (slug, name, spec, workflow_id, status, snapshot_at, audience_channel)
    values (${slug}, '财富管理月（测试）', ${sql.json(spec)}, ${`campaign-${slug}`}, 'running', now(), 'mail') returning id`;
  for (const c of CUSTOMERS)
    await sql`
      insert into campaign_members (campaign_id, customer_id, rank, band, holdout)
      values (${campaign!.id}, ${ids[c.key]!}, ${c.rank}, ${c.band}, ${c.holdout ?? false})`;
  return { campaignId: campaign!.id, slug, ids };
}
