// The one way Mailroom talks to PostgreSQL: the `postgres` tagged template.
import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>>;

export function connectDatabase(url: string, opts: { max?: number; application?: string } = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // UTC sessions: a date-only value compared with a timestamp means midnight UTC everywhere.
    connection: { application_name: opts.application ?? 'mailroom', TimeZone: 'UTC' },
    // ids are bigint in SQL; they stay far below 2^53, and numbers travel well in JSON payloads.
    types: {
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  }) as unknown as Sql;
}
