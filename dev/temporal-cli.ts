// Finds the Temporal CLI that runs the embedded dev server, building it once if needed.
// Order: TEMPORAL_CLI_PATH, `temporal` on PATH, the per-user cache, a `go install` into the cache.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, UserError } from '../config/errors.ts';
import { findOnPath, isExecutable } from '../config/executables.ts';
import type { Env } from '../config/env.ts';
import type { Paths } from '../config/paths.ts';

export const TEMPORAL_CLI_VERSION = '1.5.1';
// v1.5.1 is the last tag of the CLI whose go.mod has no `replace` directive, so `go install` works.
const MODULE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;

export type TemporalCliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'built';

export interface TemporalCli {
  path: string;
  source: TemporalCliSource;
}

export function cachedTemporalPath(paths: Paths): string {
  return join(paths.cacheBin, `temporal-${TEMPORAL_CLI_VERSION}`);
}

/** Resolves without building; undefined when a build would be needed. */
export function locateTemporalCli(env: Env, paths: Paths): TemporalCli | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) {
      throw new UserError(
        `TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file. Point it at a Temporal CLI binary, or unset it to let Mailroom find or build one.`,
        ExitCode.unavailable,
      );
    }
    return { path: env.TEMPORAL_CLI_PATH, source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = findOnPath('temporal');
  if (onPath) return { path: onPath, source: 'PATH' };
  const cached = cachedTemporalPath(paths);
  if (isExecutable(cached)) return { path: cached, source: 'cache' };
  return undefined;
}

function noTemporalError(paths: Paths): UserError {
  return new UserError(
    [
      'No Temporal CLI found and Go is not installed to build one. Any one of these works:',
      '  - set TEMPORAL_ADDRESS to use an existing Temporal cluster (nothing is started);',
      '  - set TEMPORAL_CLI_PATH to a Temporal CLI binary;',
      '  - put `temporal` on PATH;',
      `  - install Go, then run \`npm run provision\` (builds ${MODULE} into ${paths.cacheBin}).`,
    ].join('\n'),
    ExitCode.unavailable,
  );
}

/** Builds the CLI with `go install` into the cache. Output goes to a log file; a note to `say`. */
async function buildTemporalCli(paths: Paths, say: (line: string) => void): Promise<string> {
  const go = findOnPath('go');
  if (!go) throw noTemporalError(paths);
  mkdirSync(paths.cacheBin, { recursive: true });
  const target = cachedTemporalPath(paths);
  const lockDir = `${target}.building`;
  // A second process waits for the first build instead of racing it.
  while (true) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      if (isExecutable(target)) return target;
      say('Another process is building the Temporal CLI; waiting for it…');
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  try {
    if (isExecutable(target)) return target;
    const gobin = await mkdtemp(join(paths.cache, 'gobin-'));
    const logPath = join(paths.cache, `build-temporal-${TEMPORAL_CLI_VERSION}.log`);
    say(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with \`go install ${MODULE}\`.`);
    say(`The first build takes several minutes; later runs reuse ${target}. Build log: ${logPath}`);
    const log = createWriteStream(logPath);
    const code = await new Promise<number>((resolveExit, reject) => {
      const child = spawn(go, ['install', MODULE], {
        env: { ...process.env, GOBIN: gobin, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      const ticker = setInterval(() => say('  …still building the Temporal CLI'), 30_000);
      child.on('error', reject);
      child.on('close', (c) => {
        clearInterval(ticker);
        resolveExit(c ?? 1);
      });
    });
    log.end();
    const built = join(gobin, 'temporal');
    if (code !== 0 || !existsSync(built)) {
      throw new UserError(
        `Building the Temporal CLI failed (go exited with ${code}); see ${logPath}. Alternatives: set TEMPORAL_CLI_PATH or TEMPORAL_ADDRESS.`,
        ExitCode.unavailable,
      );
    }
    renameSync(built, target);
    rmSync(gobin, { recursive: true, force: true });
    say(`Temporal CLI ready at ${target}`);
    return target;
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

export async function ensureTemporalCli(env: Env, paths: Paths, say: (line: string) => void): Promise<TemporalCli> {
  const found = locateTemporalCli(env, paths);
  if (found) return found;
  return { path: await buildTemporalCli(paths, say), source: 'built' };
}
