// The call script of a call wave: a template folder with template.yaml (`channel: call`, the
// outcomes a manager can record) and script.txt.hbs, rendered with the context every template
// gets (pipeline/render/context.ts) plus `manager.name`. Read here rather than by the template
// loader, which knows the mail, email and SMS channels only.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ExitCode, UserError } from '../../config/errors.ts';
import { YamlSource, validateYaml } from '../../config/yaml-file.ts';
import { resolveTemplateDir } from '../render/templates.ts';
import { compilePart, type CompiledPart } from '../render/template-source.ts';
import type { RenderContext } from '../render/context.ts';
import { CALL_OUTCOMES } from './call-tasks.ts';

const callTemplateSchema = z.strictObject({
  channel: z.literal('call'),
  description: z.string().optional(),
  outcomes: z.partialRecord(z.enum(CALL_OUTCOMES), z.string()).default({}),
});

export interface CallScript {
  name: string;
  dir: string;
  description: string | null;
  /** Labels of the outcomes, in the order a manager sees them. */
  outcomes: { outcome: (typeof CALL_OUTCOMES)[number]; label: string }[];
  render(context: RenderContext, manager: string): string;
}

/** `name` as in a wave's `template:`: a folder relative to the campaign file, or a shipped template. */
export function loadCallScript(name: string, campaignDir: string): CallScript {
  const dir = resolveTemplateDir(name, campaignDir);
  const file = join(dir, 'template.yaml');
  if (!existsSync(file))
    throw new UserError(
      `${dir}: no template.yaml there; a call script is a folder with template.yaml and script.txt.hbs`,
    );
  const spec = validateYaml(YamlSource.read(file), callTemplateSchema);
  const scriptFile = join(dir, 'script.txt.hbs');
  if (!existsSync(scriptFile))
    throw new UserError(`${scriptFile}: missing; a call script needs this file`, ExitCode.badInput);
  const part: CompiledPart = compilePart(scriptFile, readFileSync(scriptFile, 'utf8'), { html: false });
  return {
    name: dir.split('/').filter(Boolean).at(-1)!,
    dir,
    description: spec.description ?? null,
    outcomes: CALL_OUTCOMES.map((outcome) => ({ outcome, label: spec.outcomes[outcome] ?? outcome })),
    render: (context, manager) => part.render({ ...context, manager: { name: manager } }).trim(),
  };
}
