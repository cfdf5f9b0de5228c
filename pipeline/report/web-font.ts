// A subset of Noto Sans SC holding only the characters a report page uses, as a TrueType file for
// an inline @font-face, so Chinese renders on machines without a CJK font and the page still asks
// nothing of the network. fontkit subsets the glyphs (as it does for PDFKit) but writes no cmap,
// OS/2, name or post table, which browsers need; those are added here: a format 4 cmap for the
// characters used, and OS/2, name and a version 3 post copied from the original font.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';

const require = createRequire(import.meta.url);
const FONT_FILE = '@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf';

interface RawFont {
  buffer: Buffer;
  font: fontkit.Font;
}
let cached: RawFont | undefined;
function original(): RawFont {
  if (!cached) {
    const buffer = readFileSync(require.resolve(FONT_FILE));
    cached = { buffer, font: fontkit.create(buffer) as fontkit.Font };
  }
  return cached;
}

function tables(buf: Buffer): Map<string, Buffer> {
  const n = buf.readUInt16BE(4);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const at = 12 + i * 16;
    const tag = buf.toString('latin1', at, at + 4);
    const offset = buf.readUInt32BE(at + 8);
    const length = buf.readUInt32BE(at + 12);
    out.set(tag, buf.subarray(offset, offset + length));
  }
  return out;
}

/** cmap with one (3,1) format 4 subtable: one segment per character, plus the closing 0xFFFF segment. */
function cmap(map: [number, number][]): Buffer {
  const segs = [...map.sort((a, b) => a[0] - b[0]), [0xffff, 0] as [number, number]];
  const segCount = segs.length;
  const sub = Buffer.alloc(16 + segCount * 8);
  sub.writeUInt16BE(4, 0);
  sub.writeUInt16BE(sub.length, 2);
  sub.writeUInt16BE(0, 4);
  sub.writeUInt16BE(segCount * 2, 6);
  const search = 2 ** Math.floor(Math.log2(segCount)) * 2;
  sub.writeUInt16BE(search, 8);
  sub.writeUInt16BE(Math.log2(search / 2), 10);
  sub.writeUInt16BE(segCount * 2 - search, 12);
  const ends = 14;
  const starts = ends + segCount * 2 + 2;
  const deltas = starts + segCount * 2;
  const ranges = deltas + segCount * 2;
  segs.forEach(([cp, gid], i) => {
    sub.writeUInt16BE(cp, ends + i * 2);
    sub.writeUInt16BE(cp, starts + i * 2);
    sub.writeUInt16BE(cp === 0xffff ? 1 : (gid - cp + 0x10000) % 0x10000, deltas + i * 2);
    sub.writeUInt16BE(0, ranges + i * 2);
  });
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0, 0);
  head.writeUInt16BE(1, 2);
  head.writeUInt16BE(3, 4);
  head.writeUInt16BE(1, 6);
  head.writeUInt32BE(12, 8);
  return Buffer.concat([head, sub]);
}

function checksum(b: Buffer): number {
  const padded = Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  let sum = 0;
  for (let i = 0; i < padded.length; i += 4) sum = (sum + padded.readUInt32BE(i)) >>> 0;
  return sum;
}

function assemble(all: Map<string, Buffer>): Buffer {
  const tags = [...all.keys()].sort();
  const header = Buffer.alloc(12 + tags.length * 16);
  header.writeUInt32BE(0x00010000, 0);
  header.writeUInt16BE(tags.length, 4);
  const search = 2 ** Math.floor(Math.log2(tags.length));
  header.writeUInt16BE(search * 16, 6);
  header.writeUInt16BE(Math.log2(search), 8);
  header.writeUInt16BE(tags.length * 16 - search * 16, 10);
  const bodies: Buffer[] = [];
  let offset = header.length;
  tags.forEach((tag, i) => {
    const body = all.get(tag)!;
    const at = 12 + i * 16;
    header.write(tag, at, 'latin1');
    header.writeUInt32BE(checksum(body), at + 4);
    header.writeUInt32BE(offset, at + 8);
    header.writeUInt32BE(body.length, at + 12);
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    bodies.push(padded);
    offset += padded.length;
  });
  return Buffer.concat([header, ...bodies]);
}

/** A TrueType font with the glyphs of every character in `text`. */
export function webFontFor(text: string): Buffer {
  const { buffer, font } = original();
  const subset = font.createSubset();
  subset.includeGlyph(font.glyphForCodePoint(0x20)); // .notdef comes first anyway
  const map: [number, number][] = [];
  for (const cp of new Set([...text].map((c) => c.codePointAt(0)!))) {
    if (cp > 0xfffe || cp < 0x20) continue;
    const glyph = font.glyphForCodePoint(cp);
    if (!glyph.id) continue;
    map.push([cp, subset.includeGlyph(glyph) as unknown as number]);
  }
  const sub = tables(Buffer.from(subset.encode()));
  const src = tables(buffer);
  const post = Buffer.from(src.get('post')!.subarray(0, 32));
  post.writeUInt32BE(0x00030000, 0); // version 3: no glyph names
  const head = Buffer.from(sub.get('head')!);
  head.writeUInt32BE(0, 8); // checkSumAdjustment, set below
  sub.set('head', head);
  sub.set('cmap', cmap(map));
  sub.set('OS/2', src.get('OS/2')!);
  sub.set('name', src.get('name')!);
  sub.set('post', post);
  const out = assemble(sub);
  // head.checkSumAdjustment = 0xB1B0AFBA − checksum of the whole font.
  const headAt = [...sub.keys()].sort().indexOf('head');
  const headOffset = out.readUInt32BE(12 + headAt * 16 + 8);
  out.writeUInt32BE((0xb1b0afba - checksum(out)) >>> 0, headOffset + 8);
  return out;
}
