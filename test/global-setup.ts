// Provisions the embedded stack once per test run (reusing one that is already running) and
// hands its addresses to the tests. `npm test` runs `mailroom dev provision` before this, so the
// slow first-time work (building the Temporal CLI) never happens under a hook timeout.
import type { TestProject } from 'vitest/node';
import { readEnv } from '../config/env.ts';
import { mailroomPaths } from '../config/paths.ts';
import { startDetached, stopRunningStack } from '../dev/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    temporalNamespace: string;
  }
}

export default async function setup(project: TestProject) {
  const env = readEnv();
  const paths = mailroomPaths(env);
  const { state, reused } = await startDetached(env, paths, (line) => process.stderr.write(`${line}\n`));
  project.provide('databaseUrl', state.databaseUrl);
  project.provide('temporalAddress', state.temporal.address);
  project.provide('temporalNamespace', state.temporal.namespace);
  return async () => {
    if (!reused) await stopRunningStack(paths);
  };
}
