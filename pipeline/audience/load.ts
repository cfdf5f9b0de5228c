// The segments in force for a file: built-in, then mailroom.yaml's, then the file's own; each of
// the two may `include:` standalone segments files (paths relative to the including file).
import { dirname, resolve } from 'node:path';
import { ExitCode, UserError } from '../../config/errors.ts';
import { YamlSource } from '../../config/yaml-file.ts';
import { loadMailroomConfig, type MailroomConfig } from '../../config/mailroom-config.ts';
import { builtinSegments, type SegmentRegistry } from './segments.ts';

export interface LoadedSegments {
  registry: SegmentRegistry;
  config: MailroomConfig;
  source?: YamlSource | undefined;
}

function addWithIncludes(registry: SegmentRegistry, source: YamlSource): void {
  const doc = source.toJS() as Record<string, unknown> | null;
  const include = doc?.include;
  if (include !== undefined) {
    if (!Array.isArray(include) || include.some((p) => typeof p !== 'string')) {
      throw new UserError(`${source.where(['include'])}: include: must be a list of segments files`, ExitCode.badInput);
    }
    include.forEach((path: string, i) => {
      const full = resolve(dirname(source.file), path);
      let included: YamlSource;
      try {
        included = YamlSource.read(full);
      } catch (error) {
        throw new UserError(
          `${source.where(['include', i])}: include[${i}]: ${(error as Error).message}`,
          ExitCode.badInput,
        );
      }
      registry.addFrom(included);
    });
  }
  registry.addFrom(source);
}

export function loadSegments(file?: string, given?: YamlSource): LoadedSegments {
  const registry = builtinSegments();
  const config = loadMailroomConfig();
  if (config.source) addWithIncludes(registry, config.source);
  const source = given ?? (file ? YamlSource.read(file) : undefined);
  if (source) addWithIncludes(registry, source);
  registry.check();
  return { registry, config, source };
}
