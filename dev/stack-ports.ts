// The ports a dev stack listened on, kept in <home>/ports.json (it outlives the stack) so that
// the next start takes the same ones again: workers started by hand keep their addresses, and
// tracking links already sent keep answering. A remembered port that something else holds now
// is replaced by a free one, and the stack says so.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Paths } from '../config/paths.ts';
import { portIsFree, preferredPort } from '../config/ports.ts';

const port = z.number().int().min(1).max(65535);

export const stackPortsSchema = z
  .object({
    postgres: port,
    temporal: port,
    temporalUi: port,
    temporalHttp: port,
    temporalMetrics: port,
    smtp: port,
    smtpLookup: port,
    sms: port,
    tracking: port,
  })
  .partial();

export type StackPorts = z.infer<typeof stackPortsSchema>;
export type StackPortName = keyof StackPorts;

const LABELS: Record<StackPortName, string> = {
  postgres: 'PostgreSQL',
  temporal: 'Temporal',
  temporalUi: 'the Temporal UI',
  temporalHttp: "Temporal's HTTP API",
  temporalMetrics: "Temporal's metrics",
  smtp: 'the SMTP sink',
  smtpLookup: "the SMTP sink's message lookup",
  sms: 'the Twilio sandbox',
  tracking: 'the tracking server',
};

export const stackPortsFile = (paths: Paths) => join(paths.home, 'ports.json');

export function readStackPorts(paths: Paths): StackPorts {
  const file = stackPortsFile(paths);
  if (!existsSync(file)) return {};
  try {
    return stackPortsSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return {};
  }
}

/** Records the ports now in use, keeping those of parts not running this time. */
export function rememberStackPorts(paths: Paths, ports: StackPorts): void {
  const file = stackPortsFile(paths);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...readStackPorts(paths), ...ports }, null, 2)}\n`);
}

/** Hands out the stack's ports: the remembered one when free, else the conventional one, else any. */
export class PortPlan {
  readonly chosen: StackPorts = {};
  /** One line per remembered port that had to change, for the log and `mailroom dev status`. */
  readonly moved: string[] = [];
  private readonly taken: number[] = [];

  constructor(
    readonly remembered: StackPorts,
    private readonly say: (line: string) => void,
  ) {}

  async take(name: StackPortName, conventional: number): Promise<number> {
    const before = this.remembered[name];
    let chosen: number;
    if (before !== undefined && !this.taken.includes(before) && (await portIsFree(before))) chosen = before;
    else {
      chosen = await preferredPort(conventional, [...this.taken, ...(before === undefined ? [] : [before])]);
      if (before !== undefined) this.movedFrom(name, before, chosen);
    }
    this.use(name, chosen);
    return chosen;
  }

  /** A port decided elsewhere (MAILROOM_TRACKING_PORT, say): kept from the others. */
  use(name: StackPortName, chosen: number): void {
    this.taken.push(chosen);
    this.chosen[name] = chosen;
  }

  /** Whether the remembered port of `name` is free now (true when none is remembered). */
  async rememberedIsFree(name: StackPortName): Promise<boolean> {
    const before = this.remembered[name];
    return before === undefined || (!this.taken.includes(before) && (await portIsFree(before)));
  }

  movedFrom(name: StackPortName, before: number, now: number): void {
    const line =
      `${LABELS[name]} moved from port ${before} to ${now}: port ${before}, which the stack used before, is taken by another process.` +
      (name === 'tracking' ? ` Links already sent to port ${before} do not answer until it is free again.` : '') +
      (name === 'postgres' || name === 'temporal' ? ' Workers started by hand need the new address.' : '');
    const sentence = line.charAt(0).toUpperCase() + line.slice(1);
    this.moved.push(sentence);
    this.say(sentence);
  }
}
