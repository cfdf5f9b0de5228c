// Output for people (aligned tables) and for programs (--json on stdout).
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function width(text: string): number {
  // CJK characters take two columns in a terminal.
  let w = 0;
  for (const ch of text)
    w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch)
      ? 2
      : 1;
  return w;
}

export function formatTable(rows: Record<string, unknown>[], columns?: string[]): string {
  if (!rows.length) return '(none)';
  const cols = columns ?? Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(width(c), ...cells.map((row) => width(row[i]!))));
  const pad = (text: string, i: number) => {
    const numeric = /^-?[\d,.]+%?$/.test(text);
    const fill = ' '.repeat(widths[i]! - width(text));
    return numeric ? fill + text : text + fill;
  };
  return [
    cols.map(pad).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map((row) => row.map(pad).join('  ')),
  ].join('\n');
}

export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}
