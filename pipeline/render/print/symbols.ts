// QR codes and Code 128 barcodes drawn as vector rectangles: crisp at any resolution, no
// transparency, and several times faster than placing PNG images.
import bwipjs from 'bwip-js';
import QRCode from 'qrcode';
import type { PDFDoc } from './geometry.ts';

const BLACK: [number, number, number, number] = [0, 0, 0, 100];

/** Draws `text` as a QR code of `size` points square at (x, y), one path for all dark modules. */
export function drawQr(doc: PDFDoc, text: string, x: number, y: number, size: number): void {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const quiet = 2;
  const cell = size / (n + 2 * quiet);
  // One run of dark modules per rectangle, written as raw `re` operators in a single string:
  // several times faster than a PDFKit call per rectangle. PDFKit's page transform already puts
  // the origin at the top left, so the coordinates are the same as for doc.rect().
  const ops: string[] = [];
  const f = (v: number) => (Math.round(v * 1000) / 1000).toString();
  for (let row = 0; row < n; row++) {
    let col = 0;
    while (col < n) {
      if (!modules.data[row * n + col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && modules.data[row * n + col]) col++;
      ops.push(
        `${f(x + (start + quiet) * cell)} ${f(y + (row + quiet) * cell)} ${f((col - start) * cell)} ${f(cell)} re`,
      );
    }
  }
  doc.save();
  doc.fillColor(BLACK);
  doc.addContent(ops.join('\n'));
  doc.fill();
  doc.restore();
}

/** Draws `text` as Code 128 filling width × height points at (x, y), with the text below. */
export function drawCode128(doc: PDFDoc, text: string, x: number, y: number, width: number, height: number): void {
  const [symbol] = bwipjs.raw('code128', text, {}) as unknown as [{ sbs: number[] }];
  const modules = symbol.sbs.reduce((s, w) => s + w, 0);
  const unit = width / modules;
  doc.save();
  let cursor = x;
  symbol.sbs.forEach((w, i) => {
    if (i % 2 === 0) doc.rect(cursor, y, w * unit, height * 0.78);
    cursor += w * unit;
  });
  doc.fillColor(BLACK).fill();
  doc.restore();
  // A bounded height: text placed at a fixed position must never start a new page.
  const size = Math.min(8, height * 0.2);
  doc
    .font('regular')
    .fontSize(size)
    .fillColor(BLACK)
    .text(text, x, y + height * 0.8, { width, align: 'center', height: size * 1.6, lineBreak: false });
}
