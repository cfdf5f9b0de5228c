// Which CSV column feeds which field: built-in header names (English and Chinese) plus an optional
// mapping file. Columns that match nothing are kept as customer attributes, never dropped.
import { z } from 'zod';
import { ExitCode, UserError } from '../../../config/errors.ts';
import { YamlSource, validateYaml } from '../../../config/yaml-file.ts';

export const CUSTOMER_FIELDS = [
  'external_id',
  'full_name',
  'family_name',
  'given_name',
  'gender',
  'salutation',
  'locale',
  'email',
  'phone',
  'address_line1',
  'address_line2',
  'district',
  'city',
  'province',
  'postal_code',
  'country',
  'birthday',
  'timezone',
  'created_at',
  'consent_mail',
  'consent_email',
  'consent_sms',
] as const;
export const ORDER_FIELDS = [
  'order_ref',
  'customer_external_id',
  'amount',
  'currency',
  'occurred_at',
  'channel',
] as const;

export type CustomerField = (typeof CUSTOMER_FIELDS)[number];
export type OrderField = (typeof ORDER_FIELDS)[number];
export type ImportKind = 'customers' | 'orders';

/** Header aliases of the customer fields (English and Chinese); the response import matches by some of them. */
export const CUSTOMER_ALIASES: Record<CustomerField, string[]> = {
  external_id: [
    'customer_id',
    'customer_no',
    'customer_number',
    'member_id',
    'member_no',
    '客户编号',
    '客户号',
    '会员号',
    '会员编号',
  ],
  full_name: ['name', 'customer_name', '姓名', '客户姓名', '会员姓名'],
  family_name: ['last_name', 'surname', '姓'],
  given_name: ['first_name', '名'],
  gender: ['sex', '性别'],
  salutation: ['title', '称谓', '称呼'],
  locale: ['language', 'lang', '语言'],
  email: ['e_mail', 'email_address', '邮箱', '电子邮箱', '电子邮件'],
  phone: ['mobile', 'mobile_phone', 'cell', 'telephone', 'tel', '手机', '手机号', '手机号码', '电话'],
  address_line1: ['address', 'address1', 'street', '地址', '详细地址', '通讯地址'],
  address_line2: ['address2'],
  district: ['区县', '区'],
  city: ['town', '城市', '市'],
  province: ['state', 'region', '省', '省份'],
  postal_code: ['postcode', 'post_code', 'zip', 'zip_code', 'zipcode', '邮编', '邮政编码'],
  country: ['country_code', '国家'],
  birthday: ['birth_date', 'date_of_birth', 'dob', '生日', '出生日期'],
  timezone: ['time_zone', 'tz', '时区'],
  created_at: ['customer_since', 'joined_at', 'join_date', '入会日期', '注册日期'],
  consent_mail: ['mail_consent', 'mail_opt_in', '邮寄同意'],
  consent_email: ['email_consent', 'email_opt_in', '邮件同意'],
  consent_sms: ['sms_consent', 'sms_opt_in', '短信同意'],
};

const ORDER_ALIASES: Record<OrderField, string[]> = {
  order_ref: ['order_id', 'order_no', 'order_number', 'ref', '订单号', '订单编号'],
  customer_external_id: ['external_id', 'customer_id', 'customer_no', 'member_id', '客户编号', '会员号'],
  amount: ['total', 'order_amount', 'value', '金额', '订单金额'],
  currency: ['币种'],
  occurred_at: ['date', 'order_date', 'ordered_at', 'time', '日期', '下单时间', '交易时间'],
  channel: ['source', '渠道'],
};

export type AttributeType = 'number' | 'text' | 'date' | 'boolean';

// Business fields the built-in segments use; their header names in Chinese exports too.
export const KNOWN_ATTRIBUTES: Record<string, { type: AttributeType; aliases: string[] }> = {
  annual_spend: { type: 'number', aliases: ['年消费额', '年度消费'] },
  cumulative_spend: { type: 'number', aliases: ['累计消费', '累计消费额'] },
  cumulative_topup: { type: 'number', aliases: ['累计充值'] },
  financial_assets: { type: 'number', aliases: ['金融资产', '资产'] },
  stored_value_balance: { type: 'number', aliases: ['储值余额', '余额'] },
  points: { type: 'number', aliases: ['积分'] },
  industry: { type: 'text', aliases: ['行业'] },
  tier: { type: 'text', aliases: ['客户等级', '大客户等级'] },
  member_level: { type: 'text', aliases: ['会员等级'] },
  account_manager: { type: 'text', aliases: ['客户经理'] },
};

export const mappingFileSchema = z.strictObject({
  columns: z.record(z.string(), z.string()).default({}),
  attribute_types: z.record(z.string(), z.enum(['number', 'text', 'date', 'boolean'])).default({}),
  defaults: z
    .strictObject({
      country: z.string().optional(),
      region: z.string().optional(),
      timezone: z.string().optional(),
      currency: z.string().optional(),
    })
    .default({}),
});
export type MappingFile = z.infer<typeof mappingFileSchema>;

export type ColumnTarget =
  { kind: 'field'; field: string } | { kind: 'attribute'; key: string; type: AttributeType } | { kind: 'ignore' };

export interface ColumnMapping {
  headers: string[];
  targets: ColumnTarget[];
  /** Columns that matched no field: kept as text attributes (customers) or ignored (orders). */
  unmatched: string[];
  /** Column index of each mapped field. */
  fieldIndex: Map<string, number>;
}

export function normaliseHeader(header: string): string {
  return header
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase()
    .replace(/[\s\-./]+/g, '_');
}

export function loadMappingFile(path: string): MappingFile {
  const source = YamlSource.read(path);
  const mapping = validateYaml(source, mappingFileSchema);
  return mapping;
}

function aliasTable(kind: ImportKind): Map<string, ColumnTarget> {
  const table = new Map<string, ColumnTarget>();
  const fields = kind === 'customers' ? CUSTOMER_ALIASES : ORDER_ALIASES;
  for (const [field, aliases] of Object.entries(fields)) {
    for (const name of [field, ...aliases]) table.set(normaliseHeader(name), { kind: 'field', field });
  }
  if (kind === 'customers') {
    for (const [key, { type, aliases }] of Object.entries(KNOWN_ATTRIBUTES)) {
      for (const name of [key, ...aliases]) table.set(normaliseHeader(name), { kind: 'attribute', key, type });
    }
  }
  return table;
}

function parseTarget(kind: ImportKind, target: string, mapping: MappingFile, where: string): ColumnTarget {
  const t = target.trim();
  if (t === 'ignore') return { kind: 'ignore' };
  const attr = /^(?:attributes|attr)\.(.+)$/.exec(t);
  if (attr && kind === 'customers') {
    const key = attr[1]!;
    return { kind: 'attribute', key, type: mapping.attribute_types[key] ?? KNOWN_ATTRIBUTES[key]?.type ?? 'text' };
  }
  const fields: readonly string[] = kind === 'customers' ? CUSTOMER_FIELDS : ORDER_FIELDS;
  if (fields.includes(t)) return { kind: 'field', field: t };
  throw new UserError(
    `${where}: "${target}" is not a ${kind === 'customers' ? 'customer' : 'order'} field. Use one of: ${fields.join(', ')}${kind === 'customers' ? ', attributes.<name>' : ''} or ignore.`,
    ExitCode.badInput,
  );
}

export function mapColumns(
  kind: ImportKind,
  headers: string[],
  mapping: MappingFile,
  mappingPath?: string,
): ColumnMapping {
  const table = aliasTable(kind);
  const explicit = new Map(
    Object.entries(mapping.columns).map(([h, t]) => [normaliseHeader(h), { header: h, target: t }]),
  );
  const seen = new Map<string, number>();
  const targets: ColumnTarget[] = [];
  const unmatched: string[] = [];
  headers.forEach((header, index) => {
    const norm = normaliseHeader(header);
    if (norm === '')
      throw new UserError(
        `column ${index + 1} has an empty header; name it, or map it to \`ignore\` in a mapping file`,
        ExitCode.badInput,
      );
    const dup = seen.get(norm);
    if (dup !== undefined)
      throw new UserError(
        `the header "${header}" appears twice (columns ${dup + 1} and ${index + 1}); rename one of them`,
        ExitCode.badInput,
      );
    seen.set(norm, index);
    const given = explicit.get(norm);
    let target: ColumnTarget | undefined;
    if (given)
      target = parseTarget(kind, given.target, mapping, `${mappingPath ?? 'mapping'}: columns."${given.header}"`);
    else if (/^(attributes|attr)\./i.test(header.trim()))
      target = parseTarget(kind, header.trim().replace(/^attr\./i, 'attributes.'), mapping, `column "${header}"`);
    else target = table.get(norm);
    if (!target) {
      if (kind === 'customers') {
        target = { kind: 'attribute', key: norm, type: mapping.attribute_types[norm] ?? 'text' };
        unmatched.push(header);
      } else {
        target = { kind: 'ignore' };
        unmatched.push(header);
      }
    }
    if (target.kind === 'attribute' && mapping.attribute_types[target.key])
      target = { ...target, type: mapping.attribute_types[target.key]! };
    targets.push(target);
  });
  for (const h of explicit.values()) {
    if (!seen.has(normaliseHeader(h.header))) {
      throw new UserError(
        `${mappingPath ?? 'mapping'}: columns."${h.header}" names a column the file does not have (its columns: ${headers.join(', ')})`,
        ExitCode.badInput,
      );
    }
  }
  const fieldTargets = targets
    .filter((t): t is { kind: 'field'; field: string } => t.kind === 'field')
    .map((t) => t.field);
  const dupField = fieldTargets.find((f, i) => fieldTargets.indexOf(f) !== i);
  if (dupField)
    throw new UserError(
      `two columns map to the field ${dupField}; map one of them to \`ignore\` in a mapping file`,
      ExitCode.badInput,
    );
  const required =
    kind === 'customers' ? ['external_id'] : ['order_ref', 'customer_external_id', 'amount', 'occurred_at'];
  const missing = required.filter((f) => !fieldTargets.includes(f));
  if (kind === 'customers' && !fieldTargets.some((f) => f === 'full_name' || f === 'family_name' || f === 'given_name'))
    missing.push('full_name (or family_name/given_name)');
  if (missing.length) {
    throw new UserError(
      `the file has no column for ${missing.join(', ')}. Its columns are: ${headers.join(', ')}. Rename the header, or map it with --mapping FILE (columns: {"Your header": ${missing[0]!.split(' ')[0]}}).`,
      ExitCode.badInput,
    );
  }
  const fieldIndex = new Map<string, number>();
  targets.forEach((t, i) => t.kind === 'field' && fieldIndex.set(t.field, i));
  return { headers, targets, unmatched, fieldIndex };
}
