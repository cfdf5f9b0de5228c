// A worker thread that renders print files: templates are loaded once per thread, then each
// message is one file to write.
import { parentPort } from 'node:worker_threads';
import type { RenderContext } from '../context.ts';
import { loadTemplate, type LoadedTemplate } from '../templates.ts';
import { renderDocument } from './render-document.ts';

export interface RenderJob {
  id: number;
  templateDir: string;
  path: string;
  title: string;
  pieces: RenderContext[];
}

const templates = new Map<string, LoadedTemplate>();

parentPort!.on('message', async (job: RenderJob) => {
  try {
    let t = templates.get(job.templateDir);
    if (!t) templates.set(job.templateDir, (t = loadTemplate(job.templateDir)));
    if (t.channel !== 'mail') throw new Error(`${job.templateDir} is not a mail template`);
    const pages = await renderDocument(t, job.pieces, job.path, job.title);
    parentPort!.postMessage({ id: job.id, pages });
  } catch (error) {
    parentPort!.postMessage({
      id: job.id,
      error: (error as Error).message,
      exitCode: (error as { exitCode?: number }).exitCode,
    });
  }
});
