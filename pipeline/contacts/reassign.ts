// Handing a manager's customers to another (a manager leaves, a portfolio is split): the
// customers' account_manager attribute and their open call tasks move in one transaction, and
// each customer gets a 'handover' row in the contact log, so the history says who had them when.
import type { Sql } from '../../db/connection.ts';
import type { Fragment } from '../audience/compile.ts';
import { reassignOpenTasks } from '../calls/call-tasks.ts';
import { logContacts } from './contact-log.ts';

export interface ReassignResult {
  customers: number;
  tasks: number;
}

/**
 * `where` narrows the customers (a segment's condition over `customers c`); without it every
 * customer of `from` moves, and every open task of `from` too (the unassigned pool's included).
 */
export async function reassignCustomers(
  sql: Sql,
  opts: { from: string; to: string; where?: Fragment | undefined; segment?: string | undefined; at?: Date },
): Promise<ReassignResult> {
  const at = opts.at ?? new Date();
  return sql.begin(async (txn) => {
    const tx = txn as unknown as Sql;
    const moved = await tx<{ id: number }[]>`
      update customers c set attributes = jsonb_set(c.attributes, '{account_manager}', to_jsonb(${opts.to}::text)),
        updated_at = now()
      where c.attributes ->> 'account_manager' = ${opts.from} and ${opts.where ?? tx`true`}
      returning c.id`;
    const ids = moved.map((r) => r.id);
    const movedIds = new Set(ids);
    const tasks = await reassignOpenTasks(tx, { from: opts.from, to: opts.to, customerIds: opts.where ? ids : null });
    const stamp = at.toISOString();
    const scope = opts.segment ? ` (segment ${opts.segment})` : '';
    const taskCustomers = new Map(tasks.map((t) => [t.customer_id, t]));
    const entries = [...new Set([...ids, ...taskCustomers.keys()])].map((customerId) => ({
      customerId,
      campaignId: taskCustomers.get(customerId)?.campaign_id ?? null,
      occurredAt: at,
      channel: 'handover' as const,
      actor: opts.to,
      purpose: `account manager ${opts.from} → ${opts.to}${scope}`,
      outcome: movedIds.has(customerId) ? 'reassigned' : 'open call task reassigned',
      nextStep: taskCustomers.has(customerId) ? `call (wave ${taskCustomers.get(customerId)!.wave})` : null,
      note: null,
      naturalKey: `handover:${stamp}:${opts.from}:${customerId}`,
    }));
    await logContacts(tx, entries);
    return { customers: ids.length, tasks: tasks.length };
  });
}
