// Page geometry for print: the trimmed sheet, 3 mm bleed around it, and room for crop marks.
// Every page gets MediaBox ⊇ BleedBox ⊇ TrimBox so the print shop's RIP knows where to cut.
import type PDFDocument from 'pdfkit';
import { PAGE_SIZES, type PrintLayout } from './layout.ts';

export const MM = 72 / 25.4;
// Outside the bleed: room for crop marks and their offset from the trim.
const MARK_ROOM_MM = 10;
const MARK_OFFSET_MM = 3;
const MARK_LENGTH_MM = 5;

export interface Geometry {
  /** Trim size in mm. */
  width: number;
  height: number;
  /** Distance from the MediaBox corner to the trim corner, in mm. */
  offset: number;
  bleed: number;
  mediaWidthPt: number;
  mediaHeightPt: number;
  marks: boolean;
}

export function geometryFor(layout: PrintLayout): Geometry {
  const [w, h] = PAGE_SIZES[layout.size];
  const [width, height] = layout.orientation === 'landscape' ? [h, w] : [w, h];
  const offset = layout.crop_marks ? MARK_ROOM_MM : layout.bleed;
  return {
    width,
    height,
    offset,
    bleed: layout.bleed,
    mediaWidthPt: (width + 2 * offset) * MM,
    mediaHeightPt: (height + 2 * offset) * MM,
    marks: layout.crop_marks,
  };
}

/** Converts trim-relative millimetres to page points. */
export function pt(g: Geometry, mm: number): number {
  return (g.offset + mm) * MM;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Sets the page boxes (PDF coordinates run bottom-up) and draws crop marks in registration black. */
export function finishPage(doc: PDFKit.PDFDocument, g: Geometry): void {
  const page = doc.page as unknown as { dictionary: { data: Record<string, unknown> } };
  const trim = [g.offset, g.offset, g.offset + g.width, g.offset + g.height].map((v) => round(v * MM));
  const b = g.offset - g.bleed;
  const bleed = [b, b, g.offset + g.width + g.bleed, g.offset + g.height + g.bleed].map((v) => round(v * MM));
  page.dictionary.data.TrimBox = trim;
  page.dictionary.data.BleedBox = bleed;
  page.dictionary.data.ArtBox = trim;
  if (!g.marks) return;
  doc.save();
  doc.lineWidth(0.25).strokeColor([100, 100, 100, 100]);
  const left = g.offset * MM;
  const top = g.offset * MM;
  const right = (g.offset + g.width) * MM;
  const bottom = (g.offset + g.height) * MM;
  const off = MARK_OFFSET_MM * MM;
  const len = MARK_LENGTH_MM * MM;
  for (const [x, y, dx, dy] of [
    [left, top, -1, -1],
    [right, top, 1, -1],
    [left, bottom, -1, 1],
    [right, bottom, 1, 1],
  ] as const) {
    doc
      .moveTo(x + dx * off, y)
      .lineTo(x + dx * (off + len), y)
      .stroke();
    doc
      .moveTo(x, y + dy * off)
      .lineTo(x, y + dy * (off + len))
      .stroke();
  }
  doc.restore();
}

export type PDFDoc = InstanceType<typeof PDFDocument>;
