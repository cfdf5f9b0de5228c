// The columns of a responses file: which header feeds which field, from built-in names in English
// and Chinese or a mapping file (the same YAML form as for customers: `columns:` and `defaults:`).
import { ExitCode, UserError } from '../../../config/errors.ts';
import { CUSTOMER_ALIASES, normaliseHeader, type MappingFile } from '../../customers/import/mapping.ts';

export const RESPONSE_FIELDS = [
  'source',
  'source_id',
  'kind',
  'occurred_at',
  'code',
  'external_id',
  'phone',
  'email',
  'value',
  'currency',
  'branch',
  'staff',
  'campaign',
] as const;
export type ResponseField = (typeof RESPONSE_FIELDS)[number];

/** The keys that find a row's customer, in the order they are tried. */
export const MATCH_KEYS = ['code', 'external_id', 'phone', 'email'] as const;
export type MatchKey = (typeof MATCH_KEYS)[number];
/** What `details.matched_by` of an imported response says: the key that found its customer. */
export type MatchedBy = 'code' | 'customer' | 'phone' | 'email';

const ALIASES: Record<ResponseField, string[]> = {
  source: ['system', 'source_system', '来源', '数据来源', '来源系统'],
  source_id: [
    'id',
    'record_id',
    'transaction_id',
    'txn_id',
    'redemption_id',
    'visit_id',
    'reference',
    '流水号',
    '记录编号',
    '单号',
    '核销编号',
  ],
  kind: ['type', 'response_type', 'response_kind', 'event', 'event_type', '类型', '响应类型', '反馈类型'],
  occurred_at: [
    'date',
    'time',
    'datetime',
    'timestamp',
    'redeemed_at',
    'visited_at',
    '日期',
    '时间',
    '发生时间',
    '核销时间',
    '到访时间',
    '交易时间',
  ],
  code: ['response_code', 'coupon_code', 'promo_code', 'piece_code', '响应码', '回应码', '券码', '优惠码', '识别码'],
  external_id: CUSTOMER_ALIASES.external_id,
  phone: CUSTOMER_ALIASES.phone,
  email: CUSTOMER_ALIASES.email,
  value: ['amount', 'total', 'revenue', '金额', '消费金额', '订单金额'],
  currency: ['币种', '货币'],
  branch: ['branch_name', 'store', 'shop', 'outlet', '网点', '门店', '支行', '营业厅'],
  staff: ['staff_name', 'employee', 'cashier', 'clerk', 'account_manager', '员工', '经办人', '客户经理', '收银员'],
  campaign: ['campaign_slug', 'campaign_name', '活动', '活动名称', '营销活动'],
};

const HEADER_TABLE = new Map<string, ResponseField>(
  RESPONSE_FIELDS.flatMap((field) => [field, ...ALIASES[field]].map((name) => [normaliseHeader(name), field])),
);

export interface ResponseColumns {
  headers: string[];
  /** Column index of each field the file has. */
  index: Map<ResponseField, number>;
  /** Headers that feed no field: ignored. */
  ignored: string[];
}

export function mapResponseColumns(headers: string[], mapping: MappingFile, mappingPath?: string): ResponseColumns {
  const where = mappingPath ?? 'mapping';
  const given = new Map(Object.entries(mapping.columns).map(([h, target]) => [normaliseHeader(h), { h, target }]));
  const index = new Map<ResponseField, number>();
  const ignored: string[] = [];
  const seen = new Set<string>();
  headers.forEach((header, i) => {
    const norm = normaliseHeader(header);
    if (seen.has(norm))
      throw new UserError(`the header "${header}" appears twice; rename one of the columns`, ExitCode.badInput);
    seen.add(norm);
    const explicit = given.get(norm);
    let field: ResponseField | undefined;
    if (explicit) {
      const target = explicit.target.trim();
      if (target === 'ignore') field = undefined;
      else if ((RESPONSE_FIELDS as readonly string[]).includes(target)) field = target as ResponseField;
      else
        throw new UserError(
          `${where}: columns."${explicit.h}": "${target}" is not a response field. Use one of: ${RESPONSE_FIELDS.join(', ')} or ignore.`,
          ExitCode.badInput,
        );
    } else field = HEADER_TABLE.get(norm);
    if (!field) {
      if (norm !== '' && !explicit) ignored.push(header);
      return;
    }
    if (index.has(field))
      throw new UserError(
        `columns ${index.get(field)! + 1} ("${headers[index.get(field)!]}") and ${i + 1} ("${header}") both map to ${field}; map one of them to \`ignore\` in a mapping file`,
        ExitCode.badInput,
      );
    index.set(field, i);
  });
  for (const { h } of given.values()) {
    if (!seen.has(normaliseHeader(h)))
      throw new UserError(
        `${where}: columns."${h}" names a column the file does not have (its columns: ${headers.join(', ')})`,
        ExitCode.badInput,
      );
  }
  const missing: string[] = (['source_id', 'kind', 'occurred_at'] as const).filter((f) => !index.has(f));
  const example = missing[0] ?? 'code';
  if (!MATCH_KEYS.some((k) => index.has(k))) missing.push(`a matching key (${MATCH_KEYS.join(', ')})`);
  if (missing.length)
    throw new UserError(
      `the file has no column for ${missing.join(', ')}. Its columns are: ${headers.join(', ')}. Rename the header, or map it with --mapping FILE (columns: {"Your header": ${example}}).`,
      ExitCode.badInput,
    );
  return { headers, index, ignored };
}
