// The segments in force for a file: built-in, then mailroom.yaml's, then the file's own.
import { YamlSource } from '../../config/yaml-file.ts';
import { loadMailroomConfig, type MailroomConfig } from '../../config/mailroom-config.ts';
import { builtinSegments, type SegmentRegistry } from './segments.ts';

export interface LoadedSegments {
  registry: SegmentRegistry;
  config: MailroomConfig;
  source?: YamlSource | undefined;
}

export function loadSegments(file?: string): LoadedSegments {
  const registry = builtinSegments();
  const config = loadMailroomConfig();
  if (config.source) registry.addFrom(config.source);
  const source = file ? YamlSource.read(file) : undefined;
  if (source) registry.addFrom(source);
  registry.check();
  return { registry, config, source };
}
