// The print fonts: Noto Sans SC (full TrueType, Chinese and Latin) from npm, parsed once per
// process; PDFKit embeds only the glyphs each document uses.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';

const require = createRequire(import.meta.url);

export interface PrintFonts {
  regular: unknown;
  bold: unknown;
}

let cached: PrintFonts | undefined;

export function printFonts(): PrintFonts {
  if (!cached) {
    const load = (file: string) =>
      (fontkit as unknown as { create(b: Buffer): unknown }).create(readFileSync(require.resolve(file)));
    cached = {
      regular: load('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf'),
      bold: load('@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf'),
    };
  }
  return cached;
}
