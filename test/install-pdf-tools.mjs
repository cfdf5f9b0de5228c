// The print tests check real output with qpdf and poppler (pdftotext, pdffonts, pdfinfo).
// Installs them from Debian when missing, as `npm test` runs as root on the project's machines.
import { spawnSync } from 'node:child_process';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = ['qpdf', 'pdftotext', 'pdffonts', 'pdfinfo', 'pdftoppm'].filter((c) => !has(c));
if (missing.length) {
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    console.error(
      `The print tests need ${missing.join(', ')} (Debian packages qpdf and poppler-utils). Install them, then run npm test again.`,
    );
    process.exit(1);
  }
  console.error(`Installing qpdf and poppler-utils for the print tests (missing: ${missing.join(', ')})…`);
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', 'qpdf', 'poppler-utils'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
    if (!install()) {
      console.error('Installing qpdf and poppler-utils failed; install them by hand and run npm test again.');
      process.exit(1);
    }
  }
}
