// Which template folder a wave uses, and the template itself. A template named by a plain name is
// looked for beside the campaign file (templates/NAME), then among the shipped templates; one
// that is in neither is reported with the wave, the campaign file's line and every folder tried.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, UserError } from '../../config/errors.ts';
import { formatPath } from '../../config/yaml-file.ts';
import { loadTemplate, templateDirCandidates, type LoadedTemplate } from '../render/templates.ts';
import { loadCallScript, type CallScript } from '../calls/call-script.ts';
import { waveTemplateName, type LoadedCampaign, type Wave } from './campaign-file.ts';

/** The folder of the template called `name` in `wave` (one of the wave's template names). */
export function waveTemplateDirByName(campaign: LoadedCampaign, wave: Wave, name: string): string {
  const candidates = templateDirCandidates(name, campaign.dir);
  const found = candidates.find((dir) => existsSync(join(dir, 'template.yaml')));
  if (found) return found;
  const index = campaign.waves.findIndex((w) => w.name === wave.name);
  const variantKey =
    typeof wave.template === 'string'
      ? undefined
      : Object.keys(wave.template).find((k) => (wave.template as Record<string, string>)[k] === name);
  const path = ['waves', index, 'template', ...(variantKey !== undefined ? [variantKey] : [])];
  const looked =
    candidates.length === 1
      ? candidates[0]!
      : `${candidates.slice(0, -1).join(', ')} (beside the campaign file) and ${candidates.at(-1)!} (shipped with Mailroom)`;
  throw new UserError(
    `${campaign.source.where(path)}: ${formatPath(path)}: wave ${wave.name} names template "${name}", which is not there: no template.yaml there in ${looked}`,
    ExitCode.badInput,
  );
}

/** The template folder a member of `variant` gets in `wave`. */
export function waveTemplateDir(campaign: LoadedCampaign, wave: Wave, variant: string | null): string {
  return waveTemplateDirByName(campaign, wave, waveTemplateName(wave, variant));
}

/** A call wave's script (one per wave), found as any wave's template is. */
export function waveCallScript(campaign: LoadedCampaign, wave: Wave): CallScript {
  return loadCallScript(waveTemplateDir(campaign, wave, null), campaign.dir);
}

/** The wave's template for members of `variant`, refused when it is for another channel. */
export function waveTemplate(campaign: LoadedCampaign, wave: Wave, variant: string | null): LoadedTemplate {
  if (wave.channel === 'call')
    throw new UserError(`wave ${wave.name} is a call wave: its template is a call script`, ExitCode.badInput);
  const t = loadTemplate(waveTemplateDir(campaign, wave, variant));
  if (t.channel !== wave.channel)
    throw new UserError(
      `wave ${wave.name} is ${wave.channel}, but its template ${t.name} is for ${t.channel}`,
      ExitCode.badInput,
    );
  return t;
}
