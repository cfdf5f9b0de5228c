// What the stack check reports: counts only, never customer data.
import type { Sql } from '../db/connection.ts';

export interface DatabaseSummary {
  customers: number;
  orders: number;
  migrations: number;
  serverVersion: string;
}

export function createHealthActivities({ sql }: { sql: Sql }) {
  return {
    async databaseSummary(): Promise<DatabaseSummary> {
      const [row] = await sql<{ customers: number; orders: number; migrations: number; server_version: string }[]>`
        select (select count(*)::int from customers) as customers,
               (select count(*)::int from orders) as orders,
               (select count(*)::int from schema_migrations) as migrations,
               current_setting('server_version') as server_version`;
      return {
        customers: row!.customers,
        orders: row!.orders,
        migrations: row!.migrations,
        serverVersion: row!.server_version,
      };
    },
  };
}
