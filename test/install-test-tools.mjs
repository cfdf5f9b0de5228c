// The print tests check real output with qpdf and poppler (pdftotext, pdffonts, pdfinfo, pdftoppm);
// the page tests drive Debian's chromium with puppeteer-core. Installs them from Debian when
// missing, as `npm test` runs as root on the project's machines.
import { spawnSync } from 'node:child_process';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const needs = {
  qpdf: 'qpdf',
  pdftotext: 'poppler-utils',
  pdffonts: 'poppler-utils',
  pdfinfo: 'poppler-utils',
  pdftoppm: 'poppler-utils',
  chromium: 'chromium',
};
const missing = Object.keys(needs).filter((c) => !has(c));
const packages = [...new Set(missing.map((c) => needs[c]))];
if (packages.length) {
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    console.error(
      `The tests need ${missing.join(', ')} (Debian packages ${packages.join(', ')}). Install them, then run npm test again.`,
    );
    process.exit(1);
  }
  console.error(`Installing ${packages.join(', ')} for the print and page tests (missing: ${missing.join(', ')})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', ...packages], { stdio: 'inherit', env }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    if (!install()) {
      console.error(`Installing ${packages.join(', ')} failed; install them by hand and run npm test again.`);
      process.exit(1);
    }
  }
}
