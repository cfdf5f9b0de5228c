import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEnv } from '../../config/env.ts';
import { mailroomPaths } from '../../config/paths.ts';
import { cachedTemporalPath, locateTemporalCli } from '../../dev/temporal-cli.ts';

function fakeBinary(path: string): string {
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return path;
}

describe('finding the Temporal CLI', () => {
  let dir: string;
  const savedPath = process.env.PATH;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-'));
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('prefers TEMPORAL_CLI_PATH, then PATH, then the cache', () => {
    const env = readEnv({ MAILROOM_CACHE_DIR: join(dir, 'cache'), MAILROOM_HOME: join(dir, 'home') });
    const paths = mailroomPaths(env);
    mkdirSync(paths.cacheBin, { recursive: true });
    const binDir = join(dir, 'bin');
    mkdirSync(binDir);
    process.env.PATH = binDir;
    expect(locateTemporalCli(env, paths)).toBeUndefined();
    const cached = fakeBinary(cachedTemporalPath(paths));
    expect(locateTemporalCli(env, paths)).toEqual({ path: cached, source: 'cache' });
    const onPath = fakeBinary(join(binDir, 'temporal'));
    expect(locateTemporalCli(env, paths)).toEqual({ path: onPath, source: 'PATH' });
    const explicit = fakeBinary(join(dir, 'my-temporal'));
    expect(locateTemporalCli({ ...env, TEMPORAL_CLI_PATH: explicit }, paths)).toEqual({
      path: explicit,
      source: 'TEMPORAL_CLI_PATH',
    });
  });

  it('says what to do when TEMPORAL_CLI_PATH is not executable', () => {
    const env = readEnv({ MAILROOM_CACHE_DIR: join(dir, 'cache'), TEMPORAL_CLI_PATH: join(dir, 'missing') });
    expect(() => locateTemporalCli(env, mailroomPaths(env))).toThrow(/is not an executable file.*unset it/);
  });
});
