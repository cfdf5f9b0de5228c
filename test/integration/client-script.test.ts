// The typed client as the README documents it: a script in a folder outside the checkout, run with
// plain Node 20 through client/index.mjs, reaches the running stack (its PostgreSQL for the
// migration check, its Temporal for the answer) — found without MAILROOM_HOME, and through it.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mailroomPaths } from '../../config/paths.ts';
import { tempDir } from '../helpers/csv.ts';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('a script using the typed client from another folder', () => {
  const dir = tempDir('mailroom-client-script-');
  const script = (entry: string) => `import { connectMailroom } from '${entry}';
const mailroom = await connectMailroom();
const answer = await mailroom.status('no-such-campaign-here').then(() => 'found', (e) => e.message);
console.log(JSON.stringify({ answer }));
await mailroom.close();
`;
  // The stack's services only: no DATABASE_URL or TEMPORAL_ADDRESS to lean on.
  const { MAILROOM_HOME: _home, ...inherited } = process.env;
  const env = { ...inherited, DATABASE_URL: '', TEMPORAL_ADDRESS: '', LOG_LEVEL: 'warn' };
  const expected = `{"answer":"no campaign called no-such-campaign-here has been launched"}`;

  it('runs as `node --import <mailroom>/client/index.mjs script.mts` and finds the stack without MAILROOM_HOME', async () => {
    writeFileSync(join(dir, 'script.mts'), script(join(CHECKOUT, 'client', 'index.ts')));
    const result = await run(['--import', join(CHECKOUT, 'client', 'index.mjs'), 'script.mts'], dir, env);
    expect(result.out).toContain(expected);
    expect(result.code).toBe(0);
  }, 120_000);

  it('runs as `node script.mjs` importing client/index.mjs, with MAILROOM_HOME naming the stack', async () => {
    writeFileSync(join(dir, 'script.mjs'), script(join(CHECKOUT, 'client', 'index.mjs')));
    const result = await run(['script.mjs'], dir, { ...env, MAILROOM_HOME: mailroomPaths().home });
    expect(result.out).toContain(expected);
    expect(result.code).toBe(0);
  }, 120_000);
});
