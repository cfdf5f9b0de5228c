// Email bodies written in MJML (body.mjml.hbs): responsive layout from mj-section/mj-column/
// mj-text/mj-button instead of hand-written tables. The meaning is "Handlebars first, then MJML to
// HTML"; the work is done once per template where that gives the same result: each {{ }} is
// replaced by an opaque word, MJML compiles the template once, the words are put back and the HTML
// is compiled as a Handlebars template. That holds when every {{ }} stands in text, in an
// attribute, or in mj-raw, and no {{#block}} spans MJML elements; a template that does otherwise
// (say {{#if offer}}<mj-section>…</mj-section>{{/if}}) runs Handlebars then MJML per message.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ExitCode, UserError } from '../../config/errors.ts';
import { compilePart, type CompiledPart } from './template-source.ts';

interface MjmlProblem {
  line: number;
  message: string;
  tagName: string;
}
type MjmlReply = { html: string; errors: MjmlProblem[] } | { failure: string };

/** How long one MJML compile may take before the caller gives up (the first includes loading MJML). */
const MJML_TIMEOUT_MS = 60_000;

let bridge: { worker: Worker; port: MessagePort; flag: Int32Array } | undefined;

function openBridge() {
  if (bridge) return bridge;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./mjml-worker.mjs', import.meta.url), {
    workerData: { port: port2, flag },
    transferList: [port2],
    execArgv: [],
  });
  // The thread never keeps a process alive: a CLI run ends when its work does.
  worker.unref();
  port1.unref();
  worker.on('error', () => (bridge = undefined));
  return (bridge = { worker, port: port1, flag });
}

/** MJML writes `<a\n    href="…"\n  >`: one space after a tag's name and none before its end read as mail HTML usually does. */
function tidy(html: string): string {
  return html.replace(/<([a-zA-Z][\w-]*)\s+/g, '<$1 ').replace(/\s+(\/?)>/g, '$1>');
}

/**
 * MJML to HTML, synchronously: MJML 5 compiles asynchronously, but templates load (and are
 * validated) synchronously, so the compile runs on a thread of its own while this one waits.
 */
export function mjmlToHtml(source: string): { html: string; errors: MjmlProblem[] } {
  const b = openBridge();
  Atomics.store(b.flag, 0, 0);
  b.port.postMessage({ source });
  Atomics.wait(b.flag, 0, 0, MJML_TIMEOUT_MS);
  const reply = receiveMessageOnPort(b.port)?.message as MjmlReply | undefined;
  if (!reply) {
    void b.worker.terminate();
    bridge = undefined;
    throw new Error(`MJML gave no answer within ${MJML_TIMEOUT_MS / 1000} s`);
  }
  if ('failure' in reply) throw new Error(`MJML failed: ${reply.failure}`);
  return { html: tidy(reply.html), errors: reply.errors };
}

const TAG = /\{\{\{\{[\s\S]*?\}\}\}\}|\{\{!--[\s\S]*?--\}\}|\{\{\{[\s\S]*?\}\}\}|\{\{[\s\S]*?\}\}/g;
const WORD = /MRHB(\d+)X/g;
const word = (i: number) => `MRHB${i}X`;
/** An MJML complaint about a value that Handlebars fills in later (it cannot judge it now). */
const aboutTags = (e: MjmlProblem) => /MRHB\d+X/.test(e.message);

interface Protected {
  text: string;
  tags: string[];
  /** Per tag: +1 opens a block, -1 closes one, 0 otherwise ({{else}} included). */
  depth: number[];
}

/** The source with each {{ }} replaced by a word MJML leaves alone (newlines kept, so lines match). */
function protect(source: string): Protected {
  const tags: string[] = [];
  const depth: number[] = [];
  const text = source.replace(TAG, (tag) => {
    const lines = '\n'.repeat(tag.split('\n').length - 1);
    // A comment renders as nothing: MJML need not see it (nor drop it before <mjml>).
    if (/^\{\{~?!/.test(tag)) return lines;
    const inner = tag.replace(/^\{+~?\s*/, '');
    const opens = /^[#^][^}\s]/.test(inner) || (tag.startsWith('{{{{') && !inner.startsWith('/'));
    depth.push(opens ? 1 : inner.startsWith('/') ? -1 : 0);
    tags.push(tag);
    return word(tags.length - 1) + lines;
  });
  return { text, tags, depth };
}

/** Why compiling MJML once would not mean "Handlebars first, then MJML", or undefined when it would. */
function onceProblem(p: Protected, html: string, errors: MjmlProblem[]): string | undefined {
  if (errors.some(aboutTags)) return 'MJML checks an attribute that holds {{ }}';
  const seen = [...html.matchAll(WORD)].map((m) => Number(m[1]));
  const first = seen.filter((n, i) => seen.indexOf(n) === i);
  if (first.length !== p.tags.length || first.some((n, i) => n !== i)) return 'a {{ }} stands where MJML drops it';
  const blockTwice = p.depth.some((d, i) => d !== 0 && seen.filter((n) => n === i).length > 1);
  if (blockTwice) return 'MJML repeats a block tag';
  // Inside a block, the source between two tags may hold no MJML element: a block around
  // elements shows or hides them before MJML lays them out.
  let level = 0;
  for (let i = 0; i < p.tags.length; i++) {
    level += p.depth[i]!;
    if (level <= 0) continue;
    const from = p.text.indexOf(word(i)) + word(i).length;
    const to = i + 1 < p.tags.length ? p.text.indexOf(word(i + 1)) : p.text.length;
    if (/<\/?mj-/i.test(p.text.slice(from, to))) return 'a {{#block}} holds MJML elements';
  }
  return undefined;
}

function mjmlError(file: string, problems: MjmlProblem[], where: (line: number) => string): UserError {
  const lines = problems.slice(0, 5).map((e) => `${where(e.line)}: MJML: ${e.message}`);
  return new UserError(
    `${lines.join('\n')}${problems.length > 5 ? `\n(${problems.length - 5} more in ${file})` : ''}`,
    ExitCode.badInput,
  );
}

export type MjmlPart = CompiledPart & {
  /** 'once': MJML ran when the template loaded; 'per-message': Handlebars then MJML for each message. */
  mjml: 'once' | 'per-message';
  /** Why MJML runs per message. */
  why?: string;
};

/** Compiles body.mjml.hbs: its Handlebars is checked now, its MJML now too (with the {{ }} set aside). */
export function compileMjmlPart(file: string, source: string): MjmlPart {
  const handlebars = compilePart(file, source, { html: true });
  const p = protect(source);
  const { html, errors } = mjmlToHtml(p.text);
  const wrong = errors.filter((e) => !aboutTags(e));
  if (wrong.length) throw mjmlError(file, wrong, (line) => `${file}:${line}`);
  const why = onceProblem(p, html, errors);
  if (why === undefined) {
    const restored = html.replace(WORD, (_, n: string) => p.tags[Number(n)]!);
    const compiled = compilePart(`${file} (as HTML)`, restored, { html: true });
    return {
      file,
      mjml: 'once',
      render(context) {
        try {
          return compiled.render(context);
        } catch (error) {
          // The same data through the template as written: the error names the author's line.
          handlebars.render(context);
          throw error;
        }
      },
    };
  }
  return {
    file,
    mjml: 'per-message',
    why,
    render(context) {
      const out = mjmlToHtml(handlebars.render(context));
      if (out.errors.length)
        throw mjmlError(file, out.errors, (line) => `${file}: line ${line} of the MJML Handlebars wrote`);
      return out.html;
    },
  };
}
