// A progress bar on stderr for anything that takes more than a few seconds; silent when stderr is
// not a terminal (CI logs, pipes) so that output stays clean.
import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

export function progressBar(
  label: string,
  total: number,
  opts: { unit?: string; format?: string; payload?: Record<string, unknown> } = {},
): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        opts.format ?? `${label} [{bar}] {percentage}% | {value}/{total} ${opts.unit ?? ''} | {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, opts.payload);
  return {
    update: (value, payload) => bar.update(value, payload),
    stop: () => bar.stop(),
  };
}

/** An import's bar: bytes of the file read, with the rows read and rows per second. */
export function importProgress(label: string): {
  onProgress: (p: { bytes: number; totalBytes: number; read: number }) => void;
  stop: () => void;
} {
  let bar: Progress | undefined;
  const started = Date.now();
  return {
    onProgress: ({ bytes, totalBytes, read }) => {
      bar ??= progressBar(label, totalBytes, {
        format: `${label} [{bar}] {percentage}% | {rows} rows | {rate} rows/s | {eta_formatted} left`,
        payload: { rows: '0', rate: '–' },
      });
      const seconds = (Date.now() - started) / 1000;
      bar.update(bytes, {
        rows: read.toLocaleString('en'),
        rate: seconds > 0 ? Math.round(read / seconds).toLocaleString('en') : '–',
      });
    },
    stop: () => bar?.stop(),
  };
}
