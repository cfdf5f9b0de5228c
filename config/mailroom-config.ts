// mailroom.yaml: settings of the whole installation (MAILROOM_CONFIG names another file).
// Optional; every setting has a default.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { YamlSource, validateYaml } from './yaml-file.ts';

export const mailroomConfigSchema = z.strictObject({
  // At most this many contacts per customer within this many days, across all campaigns.
  frequency_cap: z
    .strictObject({ max_contacts: z.number().int().positive(), days: z.number().int().positive() })
    .optional(),
  // Segments that replace built-in ones of the same name, or add new ones.
  segments: z.record(z.string(), z.unknown()).optional(),
  // Standalone segments files, relative to this file.
  include: z.array(z.string()).optional(),
});

export interface MailroomConfig {
  frequencyCap?: { maxContacts: number; days: number } | undefined;
  source?: YamlSource | undefined;
}

export function loadMailroomConfig(path = process.env.MAILROOM_CONFIG || resolve('mailroom.yaml')): MailroomConfig {
  if (!process.env.MAILROOM_CONFIG && !existsSync(path)) return {};
  const source = YamlSource.read(path);
  const config = validateYaml(source, mailroomConfigSchema);
  return {
    frequencyCap: config.frequency_cap
      ? { maxContacts: config.frequency_cap.max_contacts, days: config.frequency_cap.days }
      : undefined,
    source,
  };
}
