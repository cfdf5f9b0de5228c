// A Temporal namespace without Mailroom's search attributes (a fresh one on the stack's Temporal dev
// server, as on a new cluster): launch and doctor name what is missing and the command that
// registers it; `mailroom setup temporal` registers them, idempotently, and launch goes through.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import Long from 'long';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type Sql } from '../../db/connection.ts';
import { missingSearchAttributes } from '../../client/search-attributes.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';

describe('mailroom setup temporal, on a namespace without search attributes', () => {
  const tag = randomBytes(3).toString('hex');
  const namespace = `mailroom-setup-${tag}`;
  const dir = tempDir('mailroom-setup-');
  const env = { DATABASE_URL: '', TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: namespace };
  let connection: Connection;
  let sql: Sql;

  beforeAll(async () => {
    sql = connectDatabase(inject('databaseUrl'), { max: 2 });
    await sql`insert into customers (external_id, full_name, family_name, gender, email)
              values (${`ST${tag}-1`}, '吴一', '吴', 'male', ${`st${tag}@example.com`})`;
    await sql`insert into consents (customer_id, channel, status, source)
              select id, 'email', 'granted', 't' from customers where external_id = ${`ST${tag}-1`}`;
    connection = await Connection.connect({ address: inject('temporalAddress') });
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) },
    });
    // A new namespace answers once the server's namespace cache has it.
    for (let i = 0; ; i++) {
      const ok = await connection.workflowService.describeNamespace({ namespace }).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (i > 100) throw new Error(`namespace ${namespace} never came up`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    const client = new Client({ connection, namespace });
    await client.workflow
      .getHandle(`campaign-setup-${tag}`)
      .terminate('test over')
      .catch(() => {});
    await connection.operatorService.deleteNamespace({ namespace }).catch(() => {});
    await connection.close();
    await sql.end();
  });

  it('launch and doctor name the missing attributes; setup registers them once; then launch starts', async () => {
    expect(await missingSearchAttributes(connection, namespace)).toEqual(['MailroomCampaign', 'MailroomStatus']);
    const file = join(dir, 'setup.yaml');
    writeFileSync(
      file,
      [
        `name: setup-${tag}`,
        `audience: { rules: { field: external_id, op: starts_with, value: 'ST${tag}-' }, channel: email }`,
        'waves:',
        '  - { name: hello, channel: email, template: wealth-reminder-email }',
      ].join('\n'),
    );
    const refused = await runCli(['launch', file, '--allow-local-links'], env);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toContain(
      `Temporal namespace ${namespace} does not have Mailroom's search attributes MailroomCampaign, MailroomStatus; register them with \`mailroom setup temporal\``,
    );
    expect(refused.stderr).not.toContain('Failed to start Workflow');

    const doctor = await runCli(['doctor', '--timeout', '2'], env);
    expect(doctor.code).toBe(4);
    expect(doctor.stderr).toContain(`does not have Mailroom's search attributes MailroomCampaign, MailroomStatus`);
    expect(doctor.stderr).toContain('mailroom setup temporal');

    const setup = await runCli(['setup', 'temporal', '--json'], env);
    expect(setup.code, setup.stderr).toBe(0);
    expect(JSON.parse(setup.stdout)).toMatchObject({ namespace, added: ['MailroomCampaign', 'MailroomStatus'] });
    // Running it again changes nothing and succeeds.
    const again = await runCli(['setup', 'temporal'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(
      `Namespace ${namespace} at ${env.TEMPORAL_ADDRESS} has Mailroom's search attributes already.`,
    );
    expect(await missingSearchAttributes(connection, namespace)).toEqual([]);

    // The server takes a moment to use attributes it has just registered: wait until a start that
    // carries them is taken (a probe nobody runs, terminated at once), then launch once.
    const client = new Client({ connection, namespace });
    for (let i = 0; ; i++) {
      const probe = await client.workflow
        .start('probe', {
          taskQueue: `nobody-${tag}`,
          workflowId: `probe-${tag}-${i}`,
          searchAttributes: { MailroomCampaign: ['probe'], MailroomStatus: ['probe'] },
        })
        .catch(() => undefined);
      if (probe) {
        await probe.terminate('probe');
        break;
      }
      if (i > 120) throw new Error('the registered search attributes never became usable');
      await new Promise((r) => setTimeout(r, 500));
    }
    const launched = await runCli(['launch', file, '--allow-local-links', '--json'], env);
    expect(launched.code, launched.stderr).toBe(0);
    expect(JSON.parse(launched.stdout)).toMatchObject({ launched: true, workflowId: `campaign-setup-${tag}` });
  }, 400_000);
});
