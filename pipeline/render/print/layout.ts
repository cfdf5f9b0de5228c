// The print layout of a mail template (template.yaml `layout:` and `pages:`). Positions and sizes
// are millimetres from the top-left corner of the trimmed sheet; colours are CMYK (0–100).
import { z } from 'zod';

const mm = z.number().min(-10).max(1000);
const cmyk = z.tuple([
  z.number().min(0).max(100),
  z.number().min(0).max(100),
  z.number().min(0).max(100),
  z.number().min(0).max(100),
]);

export const PAGE_SIZES = { A4: [210, 297], A5: [148, 210], A6: [105, 148], '6x4in': [101.6, 152.4] } as const;

// The default address window: DIN 5008 form B — 20 mm from the left, 45 mm from the top,
// 85 × 40 mm — which lies inside the top third of an A4 sheet folded into a DL window envelope.
export const DEFAULT_WINDOW = { x: 20, y: 45, width: 85, height: 40 };

const common = { x: mm, y: mm };
export const blockSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('address'),
    x: mm.default(DEFAULT_WINDOW.x),
    y: mm.default(DEFAULT_WINDOW.y),
    width: mm.default(DEFAULT_WINDOW.width),
    height: mm.default(DEFAULT_WINDOW.height),
    size: z.number().positive().default(10),
  }),
  z.strictObject({
    type: z.literal('text'),
    ...common,
    width: mm,
    height: mm.optional(),
    text: z.string().optional(),
    file: z.string().optional(),
    size: z.number().positive().default(10.5),
    bold: z.boolean().default(false),
    color: z.union([z.string(), cmyk]).default('text'),
    align: z.enum(['left', 'center', 'right', 'justify']).default('left'),
    line_gap: z.number().min(0).default(3),
    // A flowing block continues on new pages (a multi-page letter); others are clipped to `height`.
    flow: z.boolean().default(false),
  }),
  z.strictObject({ type: z.literal('qr'), ...common, size: mm.default(25) }),
  z.strictObject({ type: z.literal('barcode'), ...common, width: mm.default(50), height: mm.default(10) }),
  z.strictObject({
    type: z.literal('image'),
    ...common,
    width: mm,
    file: z.string().optional(),
    field: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('rect'), ...common, width: mm, height: mm, color: z.union([z.string(), cmyk]) }),
]);
export type Block = z.infer<typeof blockSchema>;

export const printLayoutSchema = z.strictObject({
  size: z.enum(['A4', 'A5', 'A6', '6x4in']).default('A4'),
  orientation: z.enum(['portrait', 'landscape']).default('portrait'),
  bleed: z.number().min(0).max(10).default(3),
  crop_marks: z.boolean().default(true),
  margins: z
    .strictObject({ top: mm, right: mm, bottom: mm, left: mm })
    .default({ top: 20, right: 20, bottom: 20, left: 20 }),
  colors: z.record(z.string(), cmyk).default({}),
  /**
   * Each sheet printed on both sides. Default: yes for a piece of several fixed sides (a postcard,
   * a leaflet), no for a letter whose text flows onto further pages.
   */
  duplex: z.boolean().optional(),
});
export type PrintLayout = z.infer<typeof printLayoutSchema>;

export const printPagesSchema = z.array(z.strictObject({ blocks: z.array(blockSchema) })).min(1);
export type PrintPage = z.infer<typeof printPagesSchema>[number];

/** Whether a template's pieces are printed on both sides of each sheet (see `duplex` above). */
export function isDuplex(layout: PrintLayout, pages: PrintPage[]): boolean {
  return layout.duplex ?? (pages.length > 1 && !pages.some((p) => p.blocks.some((b) => b.type === 'text' && b.flow)));
}

export const BUILTIN_COLORS: Record<string, [number, number, number, number]> = {
  text: [0, 0, 0, 100],
  black: [0, 0, 0, 100],
  white: [0, 0, 0, 0],
};
