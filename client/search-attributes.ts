// Mailroom's search attributes in a Temporal namespace: which are missing (launch and doctor say
// so) and registering them (`mailroom setup temporal`), through the operator service.
import type { Connection } from '@temporalio/client';
// A CommonJS package: Node's ESM loader sees only its default export.
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/contract.ts';

/** The Temporal connection's operator service: enough of it to read and register search attributes. */
interface OperatorConnection {
  operatorService: Pick<Connection['operatorService'], 'listSearchAttributes' | 'addSearchAttributes'>;
}

/** Mailroom's search attributes (workflows/contract.ts) that namespace `namespace` does not have. */
export async function missingSearchAttributes(connection: OperatorConnection, namespace: string): Promise<string[]> {
  const { customAttributes, systemAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(customAttributes ?? {}), ...Object.keys(systemAttributes ?? {})]);
  return Object.keys(SEARCH_ATTRIBUTES).filter((name) => !known.has(name));
}

/**
 * Registers the missing ones (`mailroom setup temporal`); those already there are left alone, so
 * it can run any number of times. Returns the names it added.
 */
export async function registerSearchAttributes(connection: OperatorConnection, namespace: string): Promise<string[]> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing.length === 0) return [];
  const types = { Keyword: proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD } as const;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((name) => [name, types[SEARCH_ATTRIBUTES[name as SearchAttribute]]]),
    ),
  });
  return missing;
}

type SearchAttribute = keyof typeof SEARCH_ATTRIBUTES;
