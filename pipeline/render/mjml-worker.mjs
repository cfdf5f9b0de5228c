// The thread behind mjml.ts's mjmlToHtml: MJML 5 compiles asynchronously, templates load
// synchronously, so the caller posts MJML here and sleeps on a shared flag until the HTML is back.
import { workerData } from 'node:worker_threads';
import mjml2html from 'mjml';

const { port, flag } = workerData;

port.on('message', async ({ source }) => {
  let reply;
  try {
    const { html, errors } = await mjml2html(source, { validationLevel: 'soft', minify: false, beautify: false });
    reply = { html, errors: errors.map((e) => ({ line: e.line, message: e.message, tagName: e.tagName })) };
  } catch (error) {
    reply = { failure: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
