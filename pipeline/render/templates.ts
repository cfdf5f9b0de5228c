// A template is a folder: template.yaml (channel, email subjects, print layout and pages) plus
// Handlebars files. Everything compiles strictly when loaded; rendering names file and line.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ExitCode, UserError } from '../../config/errors.ts';
import { YamlSource, validateYaml } from '../../config/yaml-file.ts';
import type { RenderContext } from './context.ts';
import { printLayoutSchema, printPagesSchema, type Block, type PrintLayout } from './print/layout.ts';
import { smsSegments, type SmsSegments } from './sms-segments.ts';
import { compileMjmlPart } from './mjml.ts';
import { compilePart, type CompiledPart } from './template-source.ts';

export const SHIPPED_TEMPLATES = fileURLToPath(new URL('../../templates', import.meta.url));

export const templateSchema = z.strictObject({
  channel: z.enum(['mail', 'email', 'sms']),
  description: z.string().optional(),
  subject: z.string().optional(),
  subjects: z.record(z.string(), z.string()).optional(),
  layout: printLayoutSchema.optional(),
  pages: printPagesSchema.optional(),
});

export type PrintBlock = Block & { compiled?: CompiledPart; image?: Buffer };

export type LoadedTemplate =
  | { channel: 'mail'; name: string; dir: string; layout: PrintLayout; pages: { blocks: PrintBlock[] }[] }
  | {
      channel: 'email';
      name: string;
      dir: string;
      subject: CompiledPart;
      subjects: Map<string, CompiledPart>;
      html: CompiledPart;
      text: CompiledPart;
    }
  | { channel: 'sms'; name: string; dir: string; text: CompiledPart };

/**
 * Where a template called `name` is looked for, in order: a folder path (relative to the campaign
 * file) is itself; a plain name is templates/NAME beside the campaign file, then a shipped template.
 */
export function templateDirCandidates(name: string, campaignDir: string): string[] {
  if (isAbsolute(name) || name.startsWith('.') || name.includes('/')) return [resolve(campaignDir, name)];
  return [join(campaignDir, 'templates', name), join(SHIPPED_TEMPLATES, name)];
}

/** The first folder of templateDirCandidates that holds a template.yaml, else the last one. */
export function resolveTemplateDir(name: string, campaignDir: string): string {
  const candidates = templateDirCandidates(name, campaignDir);
  return candidates.find((dir) => existsSync(join(dir, 'template.yaml'))) ?? candidates.at(-1)!;
}

function readPart(dir: string, file: string, html: boolean): CompiledPart {
  const path = join(dir, file);
  if (!existsSync(path)) throw new UserError(`${path}: missing; the template needs this file`, ExitCode.badInput);
  return compilePart(path, readFileSync(path, 'utf8'), { html });
}

/** An email's HTML body: body.mjml.hbs (MJML, see mjml.ts) or body.html.hbs (HTML as written). */
function readHtmlBody(dir: string): CompiledPart {
  const mjml = join(dir, 'body.mjml.hbs');
  if (!existsSync(mjml)) return readPart(dir, 'body.html.hbs', true);
  if (existsSync(join(dir, 'body.html.hbs')))
    throw new UserError(
      `${dir}: both body.mjml.hbs and body.html.hbs; an email template has one HTML body: keep one of them`,
      ExitCode.badInput,
    );
  return compileMjmlPart(mjml, readFileSync(mjml, 'utf8'));
}

export function loadTemplate(dir: string): LoadedTemplate {
  const file = join(dir, 'template.yaml');
  if (!existsSync(file))
    throw new UserError(
      `${dir}: no template.yaml there; a template is a folder with template.yaml and its .hbs files`,
      ExitCode.badInput,
    );
  const source = YamlSource.read(file);
  const spec = validateYaml(source, templateSchema);
  const name = dir.split('/').filter(Boolean).at(-1)!;
  if (spec.channel === 'email') {
    const inline = (text: string, label: string) => compilePart(`${file} (${label})`, text, { html: false });
    if (!spec.subject && !spec.subjects)
      throw new UserError(
        `${source.where([])}: an email template needs subject (or subjects by variant)`,
        ExitCode.badInput,
      );
    const subjects = new Map(
      Object.entries(spec.subjects ?? {}).map(([variant, text]) => [variant, inline(text, `subjects.${variant}`)]),
    );
    return {
      channel: 'email',
      name,
      dir,
      subject: inline(spec.subject ?? Object.values(spec.subjects!)[0]!, 'subject'),
      subjects,
      html: readHtmlBody(dir),
      text: readPart(dir, 'body.txt.hbs', false),
    };
  }
  if (spec.channel === 'sms') return { channel: 'sms', name, dir, text: readPart(dir, 'body.txt.hbs', false) };
  if (!spec.pages)
    throw new UserError(`${source.where([])}: a mail template needs pages: with blocks`, ExitCode.badInput);
  const layout = spec.layout ?? printLayoutSchema.parse({});
  const pages = spec.pages.map((page, p) => ({
    blocks: page.blocks.map((block, b): PrintBlock => {
      const where = source.where(['pages', p, 'blocks', b]);
      if (block.type === 'text') {
        if (!block.text === !block.file)
          throw new UserError(`${where}: a text block needs text or file (one of them)`, ExitCode.badInput);
        const compiled = block.file
          ? readPart(dir, block.file, false)
          : compilePart(`${file}:${source.lineOf(['pages', p, 'blocks', b, 'text'])}`, block.text!, { html: false });
        if (
          typeof block.color === 'string' &&
          !(block.color in layout.colors) &&
          !['text', 'black', 'white'].includes(block.color)
        ) {
          throw new UserError(
            `${where}: colour "${block.color}" is not defined under layout.colors`,
            ExitCode.badInput,
          );
        }
        return { ...block, compiled };
      }
      if (block.type === 'image' && block.file) {
        const path = join(dir, block.file);
        if (!existsSync(path)) throw new UserError(`${where}: image ${path} does not exist`, ExitCode.badInput);
        return { ...block, image: readFileSync(path) };
      }
      return block;
    }),
  }));
  return { channel: 'mail', name, dir, layout, pages };
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export function renderEmail(t: Extract<LoadedTemplate, { channel: 'email' }>, ctx: RenderContext): RenderedEmail {
  const subject = (ctx.variant ? t.subjects.get(ctx.variant) : undefined) ?? t.subject;
  return { subject: subject.render(ctx).trim(), html: t.html.render(ctx), text: t.text.render(ctx) };
}

export function renderSms(
  t: Extract<LoadedTemplate, { channel: 'sms' }>,
  ctx: RenderContext,
): { text: string } & SmsSegments {
  const text = t.text.render(ctx).trim();
  return { text, ...smsSegments(text) };
}

export function templateDirOf(file: string): string {
  return dirname(file);
}
