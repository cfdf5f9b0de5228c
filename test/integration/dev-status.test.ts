// `mailroom dev status` names every service the stack uses: SMTP_URL with its address (its
// password hidden), and the ports that had to move.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StackState } from '../../dev/stack-state.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';

describe('mailroom dev status', () => {
  it('shows the SMTP server of a stack started with SMTP_URL, and a port that moved', async () => {
    const home = tempDir('mailroom-status-');
    const note =
      'The tracking server moved from port 43997 to 46165: port 43997, which the stack used before, is taken by another process.';
    // A recorded stack whose supervisor is alive (this process), as `mailroom dev` writes it.
    const state: StackState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      home,
      databaseUrl: 'postgres://postgres:secret@127.0.0.1:54329/mailroom',
      database: 'embedded',
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'mailroom', source: 'cache' },
      smtpUrl: 'smtp://mailer:hunter2@mail.example.com:587',
      smtpLookupUrl: 'https://mail.example.com/lookup',
      tracking: { listen: 'http://127.0.0.1:46165', url: 'http://127.0.0.1:46165' },
      logs: join(home, 'logs'),
      portNotes: [note],
    };
    writeFileSync(join(home, 'stack.json'), JSON.stringify(state, null, 2));
    const status = await runCli(['dev', 'status'], { MAILROOM_HOME: home });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(
      'Email         SMTP_URL smtp://mailer:***@mail.example.com:587, lookup https://mail.example.com/lookup',
    );
    expect(status.stdout).not.toContain('hunter2');
    expect(status.stdout).toContain(`Note          ${note}`);
  });
});
