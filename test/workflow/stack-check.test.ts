import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSeed } from '../../dev/seed/run-seed.ts';
import { stackCheckWorkflow } from '../../workflows/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

describe('workflow round trip on the Temporal dev server', () => {
  let db: TestDatabase;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const target = testTarget();

  beforeAll(async () => {
    db = await createTestDatabase();
    await runSeed(db.sql, { customers: 50, seed: 3 });
    worker = await startTestWorker(db.url, target);
  });
  afterAll(async () => {
    await worker?.stop();
    await db?.drop();
  });

  it('runs a workflow whose activity reads PostgreSQL, and returns only counts', async () => {
    const workflowId = `stack-check-${Date.now()}`;
    const result = await worker.client.workflow.execute(stackCheckWorkflow, {
      taskQueue: target.taskQueue,
      workflowId,
    });
    const [counts] = await db.sql<{ customers: number; orders: number }[]>`
      select (select count(*)::int from customers) as customers, (select count(*)::int from orders) as orders`;
    expect(result).toEqual({
      customers: 50,
      orders: counts!.orders,
      migrations: expect.any(Number),
      serverVersion: expect.stringMatching(/^\d+/),
      workflowId,
      taskQueue: target.taskQueue,
    });
    expect(counts!.orders).toBeGreaterThan(0);

    // Nothing personal is in the workflow's history: no names, emails or phones.
    const history = await worker.client.workflow.getHandle(workflowId).fetchHistory();
    // Payload data arrives base64-encoded (or as bytes); decode every payload and search the text.
    const decoded: string[] = [];
    JSON.stringify(history, (key, v) => {
      if (key === 'data' && typeof v === 'string') decoded.push(Buffer.from(v, 'base64').toString('utf8'));
      if (v instanceof Uint8Array) decoded.push(Buffer.from(v).toString('utf8'));
      return v;
    });
    const text = `${JSON.stringify(history)}\n${decoded.join('\n')}`;
    const people = await db.sql<
      { full_name: string; email: string | null; phone: string | null }[]
    >`select full_name, email, phone from customers`;
    for (const p of people) {
      for (const value of [p.full_name, p.email, p.phone]) if (value) expect(text).not.toContain(value);
    }
    expect(text).toContain('"customers":50');
  });
});
