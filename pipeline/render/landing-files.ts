// Where a campaign's landing page template is looked for. Apart from landing.ts so that the
// campaign file can check its `landing:` key without importing the renderer.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHIPPED_TEMPLATES = fileURLToPath(new URL('../../templates', import.meta.url));

/** `landing:` of a campaign file: a folder path (relative to the file), or a name under templates/ beside it, else shipped. */
export function landingFolder(name: string, campaignDir: string): string {
  if (isAbsolute(name) || name.startsWith('.') || name.includes('/')) return resolve(campaignDir, name);
  const local = join(campaignDir, 'templates', name);
  return existsSync(local) ? local : join(SHIPPED_TEMPLATES, name);
}

/** The landing template files a customer of `locale` gets, most specific first, folder by folder. */
export function landingCandidates(folders: string[], locale: string): string[] {
  const language = locale.split(/[-_]/)[0]!;
  const names = [...new Set([`landing.${locale}.html.hbs`, `landing.${language}.html.hbs`, 'landing.html.hbs'])];
  return folders.flatMap((folder) => names.map((n) => join(folder, n)));
}
