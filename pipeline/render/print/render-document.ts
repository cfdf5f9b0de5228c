// Renders a print file: many personalised pieces, one after another, each page with its boxes
// and crop marks. The same input gives byte-identical output (fixed dates, derived ids).
import { createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ExitCode, UserError } from '../../../config/errors.ts';
import { once } from 'node:events';
import PDFDocument from 'pdfkit';
import type { RenderContext } from '../context.ts';
import type { LoadedTemplate, PrintBlock } from '../templates.ts';
import { addressLines } from './address.ts';
import { finishPage, geometryFor, MM, pt, type Geometry, type PDFDoc } from './geometry.ts';
import { BUILTIN_COLORS, isDuplex, type PrintLayout } from './layout.ts';
import { printFonts } from './fonts.ts';
import { drawCode128, drawQr } from './symbols.ts';

type MailTemplate = Extract<LoadedTemplate, { channel: 'mail' }>;

// Print files carry no wall-clock time, so that re-running a job reproduces its files exactly.
const FIXED_DATE = new Date('2000-01-01T00:00:00Z');

export interface PiecePages {
  firstPage: number;
  pageCount: number;
}

function colour(layout: PrintLayout, c: string | [number, number, number, number]): [number, number, number, number] {
  return typeof c === 'string' ? (layout.colors[c] ?? BUILTIN_COLORS[c] ?? BUILTIN_COLORS.text!) : c;
}

const images = new Map<string, Buffer>();

/**
 * A per-recipient image: `field` names a context value (e.g. customer.attributes.photo) holding a
 * PNG or JPEG path, absolute or relative to the template. No value draws nothing; a value that
 * names no file stops the job, naming the customer, rather than printing a gap.
 */
function recipientImage(dir: string, field: string, ctx: RenderContext): Buffer | undefined {
  const value = field
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | null | undefined)?.[key], ctx);
  if (value === null || value === undefined || value === '') return undefined;
  const path = isAbsolute(String(value)) ? String(value) : join(dir, String(value));
  let image = images.get(path);
  if (!image) {
    if (!existsSync(path))
      throw new UserError(
        `customer ${ctx.customer.external_id}: ${field} names ${path}, which does not exist`,
        ExitCode.badInput,
      );
    image = readFileSync(path);
    if (images.size > 200) images.clear();
    images.set(path, image);
  }
  return image;
}

function drawBlock(doc: PDFDoc, g: Geometry, t: MailTemplate, block: PrintBlock, ctx: RenderContext): void {
  const bottomOfTrim = g.height - t.layout.margins.bottom;
  switch (block.type) {
    case 'rect':
      doc
        .save()
        .rect(pt(g, block.x), pt(g, block.y), block.width * MM, block.height * MM)
        .fillColor(colour(t.layout, block.color))
        .fill()
        .restore();
      return;
    case 'address': {
      const lines = addressLines(ctx.customer);
      doc.font('regular').fontSize(block.size).fillColor(BUILTIN_COLORS.text!);
      // Clipped to the window: an over-long name or street never pushes the block out of it.
      doc.text(lines.join('\n'), pt(g, block.x), pt(g, block.y), {
        width: block.width * MM,
        height: block.height * MM,
        ellipsis: true,
        lineGap: 1,
      });
      return;
    }
    case 'qr':
      // ?src=qr: the tracking server records a scan of the printed code apart from a typed PURL.
      drawQr(doc, `${ctx.purl}?src=qr`, pt(g, block.x), pt(g, block.y), block.size * MM);
      return;
    case 'barcode':
      drawCode128(doc, ctx.response_code, pt(g, block.x), pt(g, block.y), block.width * MM, block.height * MM);
      return;
    case 'image': {
      const image = block.image ?? (block.field ? recipientImage(t.dir, block.field, ctx) : undefined);
      if (image) doc.image(image, pt(g, block.x), pt(g, block.y), { width: block.width * MM });
      return;
    }
    case 'text': {
      const text = block.compiled!.render(ctx);
      doc
        .font(block.bold ? 'bold' : 'regular')
        .fontSize(block.size)
        .fillColor(colour(t.layout, block.color));
      const height = block.flow ? undefined : (block.height ?? Math.max(1, bottomOfTrim - block.y)) * MM;
      doc.text(text, pt(g, block.x), pt(g, block.y), {
        width: block.width * MM,
        align: block.align,
        lineGap: block.line_gap,
        ...(height !== undefined ? { height, ellipsis: true } : {}),
      });
    }
  }
}

function addPage(doc: PDFDoc, g: Geometry, layout: PrintLayout): void {
  doc.addPage({
    size: [g.mediaWidthPt, g.mediaHeightPt],
    // Margins matter only to flowing text: where a continued letter starts and stops on new pages.
    margins: {
      top: pt(g, layout.margins.top),
      bottom: (g.offset + layout.margins.bottom) * MM,
      left: pt(g, layout.margins.left),
      right: (g.offset + layout.margins.right) * MM,
    },
  });
}

/** Renders `pieces` into one PDF at `path`; returns where each piece starts and how many pages it has. */
export async function renderDocument(
  t: MailTemplate,
  pieces: RenderContext[],
  path: string,
  title: string,
): Promise<PiecePages[]> {
  const g = geometryFor(t.layout);
  const duplex = isDuplex(t.layout, t.pages);
  const doc = new PDFDocument({
    autoFirstPage: false,
    compress: true,
    pdfVersion: '1.7',
    info: { Title: title, Creator: 'Mailroom', Producer: 'Mailroom', CreationDate: FIXED_DATE, ModDate: FIXED_DATE },
  });
  const fonts = printFonts();
  doc.registerFont('regular', fonts.regular as never);
  doc.registerFont('bold', fonts.bold as never);
  let pages = 0;
  doc.on('pageAdded', () => {
    pages++;
    finishPage(doc, g);
  });
  const out = createWriteStream(path);
  doc.pipe(out);
  const result: PiecePages[] = [];
  try {
    for (const ctx of pieces) {
      const first = pages + 1;
      for (const page of t.pages) {
        addPage(doc, g, t.layout);
        for (const block of page.blocks) drawBlock(doc, g, t, block, ctx);
      }
      // Printed on both sides, a piece of an odd number of pages gets a blank back, so that the
      // next piece starts on a sheet of its own.
      if (duplex && (pages - first + 1) % 2 === 1) addPage(doc, g, t.layout);
      result.push({ firstPage: first, pageCount: pages - first + 1 });
    }
  } catch (error) {
    // No half-written file stays behind, and the descriptor is closed.
    doc.unpipe(out);
    out.destroy();
    // The stream opens its file asynchronously: remove it only once the stream has closed.
    await once(out, 'close').catch(() => {});
    rmSync(path, { force: true });
    throw error;
  }
  doc.end();
  await once(out, 'finish');
  return result;
}
