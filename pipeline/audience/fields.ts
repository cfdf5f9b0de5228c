// The customer fields a segment rule may name, with their types. Attributes the import knows are
// typed here; any other attribute is reached as `attributes.NAME` (text unless `type:` says).
import { KNOWN_ATTRIBUTES } from '../customers/import/mapping.ts';

export type FieldType = 'text' | 'number' | 'date' | 'timestamp' | 'boolean';

export type FieldRef =
  { kind: 'column'; name: string; type: FieldType } | { kind: 'attribute'; key: string; type: FieldType };

export const CUSTOMER_COLUMNS: Record<string, FieldType> = {
  id: 'number',
  external_id: 'text',
  full_name: 'text',
  family_name: 'text',
  given_name: 'text',
  gender: 'text',
  salutation: 'text',
  locale: 'text',
  email: 'text',
  phone: 'text',
  address_line1: 'text',
  address_line2: 'text',
  district: 'text',
  city: 'text',
  province: 'text',
  postal_code: 'text',
  country: 'text',
  birthday: 'date',
  timezone: 'text',
  created_at: 'timestamp',
  // Written by each campaign's feedback step (db/migrations/0004_orchestration.sql).
  last_contacted_at: 'timestamp',
  contact_count: 'number',
  response_count: 'number',
  last_responded_at: 'timestamp',
};

export function knownFieldNames(): string[] {
  return [...Object.keys(CUSTOMER_COLUMNS), ...Object.keys(KNOWN_ATTRIBUTES)];
}

/** Resolves a field name; undefined when it names nothing. */
export function resolveField(name: string, declaredType?: FieldType): FieldRef | undefined {
  // Own keys only: "constructor" or "__proto__" must not resolve to anything.
  const column = Object.hasOwn(CUSTOMER_COLUMNS, name) ? CUSTOMER_COLUMNS[name] : undefined;
  if (column) return { kind: 'column', name, type: column };
  const attr = /^attributes\.(.+)$/.exec(name);
  if (attr) {
    const key = attr[1]!;
    return {
      kind: 'attribute',
      key,
      type: declaredType ?? (Object.hasOwn(KNOWN_ATTRIBUTES, key) ? KNOWN_ATTRIBUTES[key]!.type : 'text'),
    };
  }
  const known = Object.hasOwn(KNOWN_ATTRIBUTES, name) ? KNOWN_ATTRIBUTES[name] : undefined;
  if (known) return { kind: 'attribute', key: name, type: declaredType ?? known.type };
  return undefined;
}
