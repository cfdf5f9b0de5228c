// `mailroom segment preview|list`
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { formatTable, printJson, say } from '../output.ts';
import { positiveInt } from '../parse-options.ts';
import { parseAudience, type Audience } from '../../pipeline/audience/audience.ts';
import { loadSegments, type LoadedSegments } from '../../pipeline/audience/load.ts';
import { previewAudience } from '../../pipeline/audience/preview.ts';
import { CHANNELS, type Channel } from '../../pipeline/audience/rules.ts';
import { percentSchema } from '../../pipeline/audience/segments.ts';
import { powerCheck } from '../../pipeline/report/power.ts';
import type { YamlSource } from '../../config/yaml-file.ts';
import { powerLine } from './campaign.ts';

interface PreviewFlags {
  segment?: string;
  limit: number;
  explain?: boolean;
  json?: boolean;
  channel?: string;
  asOf?: string;
}

export function parseAsOf(value: string | undefined): Date {
  if (!value) return new Date();
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T12:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw new UserError(`--as-of ${value} is not a date (YYYY-MM-DD)`, ExitCode.usage);
  return date;
}

/** The audience to preview: --segment NAME, else the file's audience, else its only segment. */
function chooseAudience(
  file: string | undefined,
  flags: PreviewFlags,
): { audience: Audience; key: string; label: string; loaded: LoadedSegments } {
  const loaded = loadSegments(file);
  const { registry, source } = loaded;
  const doc = (source?.toJS() ?? {}) as Record<string, unknown>;
  const channel = (flags.channel ?? 'mail') as Channel;
  if (flags.channel && !CHANNELS.includes(channel))
    throw new UserError(`--channel ${flags.channel}: use mail, email or sms`, ExitCode.usage);
  const key = typeof doc.name === 'string' ? doc.name : 'preview';
  const plain = (name: string): Audience => {
    const segment = registry.get(name);
    if (!segment)
      throw new UserError(`unknown segment "${name}". Known: ${registry.names().join(', ')}`, ExitCode.badInput);
    return { segment, channel, holdoutPercent: 0, variants: [], onePerHousehold: false };
  };
  if (flags.segment) return { audience: plain(flags.segment), key, label: `segment ${flags.segment}`, loaded };
  if (source && doc.audience !== undefined) {
    const audience = parseAudience(source, registry);
    return { audience: flags.channel ? { ...audience, channel } : audience, key, label: `audience of ${file}`, loaded };
  }
  const own = Object.keys((doc.segments as Record<string, unknown> | undefined) ?? {});
  if (own.length === 1) return { audience: plain(own[0]!), key, label: `segment ${own[0]}`, loaded };
  throw new UserError(
    file
      ? `${file} has ${own.length ? `${own.length} segments (${own.join(', ')})` : 'no audience and no segments'}; choose one with --segment NAME`
      : `name a segment with --segment NAME (built-in: ${registry.names().join(', ')})`,
    ExitCode.usage,
  );
}

/** The campaign file's expected_response and expected_lift (percent), as fractions; 5 % and 3 points by default. */
function expectedRates(source: YamlSource | undefined): [number, number] {
  const doc = (source?.toJS() ?? {}) as Record<string, unknown>;
  const percent = (value: unknown, fallback: number) => {
    const parsed = percentSchema().safeParse(value ?? fallback);
    return (parsed.success ? parsed.data : fallback) / 100;
  };
  return [percent(doc.expected_response, 5), percent(doc.expected_lift, 3)];
}

function printPreview(label: string, audience: Audience, preview: Awaited<ReturnType<typeof previewAudience>>): void {
  const c = preview.counts;
  say(
    `${label} on channel ${audience.channel}: ${c.members} members, ${c.contactable} to contact, ${c.holdout} in holdout, ${Object.values(c.suppressed).reduce((a, b) => a + b, 0)} suppressed`,
  );
  const table = (title: string, counts: Record<string, number>, col: string) => {
    if (!Object.keys(counts).length) return;
    say(`\n${title}`);
    say(formatTable(Object.entries(counts).map(([k, n]) => ({ [col]: k, members: n }))));
  };
  table('By band (contactable and holdout):', c.bands, 'band');
  table('By variant:', c.variants, 'variant');
  table('Suppressed, by reason:', c.suppressed, 'reason');
  say(`\nSample of members:`);
  say(formatTable(preview.sample.map((m) => ({ ...m, holdout: m.holdout ? 'yes' : '' }))));
  if (preview.sql) say(`\nSQL (user values are parameters):\n${preview.sql}\n\nPlan:\n${preview.plan}`);
}

export function registerSegment(program: Command): void {
  const segment = program.command('segment').description('preview segments and audiences');
  segment
    .command('preview [file]')
    .description('count and sample a segment or a campaign audience without writing anything')
    .option('--segment <name>', 'a named segment (built-in, mailroom.yaml or the file)')
    .option('--limit <n>', 'how many sample members to show', positiveInt, 20)
    .option('--channel <channel>', 'channel for consent, address and suppression checks (mail, email, sms)')
    .option('--as-of <date>', 'evaluate relative dates (birthdays, days since) as of this day')
    .option('--explain', 'also print the SQL and its query plan')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nFILE is a campaign file (its audience: block) or a segments file (segments: NAME: …).\nExit codes: 0 previewed, 2 wrong usage, 3 a bad rule (the message names file, line and path).',
    )
    .action(async (file: string | undefined, flags: PreviewFlags) => {
      const asOf = parseAsOf(flags.asOf);
      const { audience, key, label, loaded } = chooseAudience(file, flags);
      const ctx = context({ quiet: flags.json === true });
      const preview = await withDatabase(ctx, (sql) =>
        previewAudience(
          { sql, registry: loaded.registry, asOf, frequencyCap: loaded.config.frequencyCap },
          audience,
          key,
          { limit: flags.limit, explain: flags.explain === true },
        ),
      );
      const power =
        audience.holdoutPercent > 0
          ? powerCheck(preview.counts.contactable, preview.counts.holdout, ...expectedRates(loaded.source))
          : undefined;
      if (flags.json)
        return printJson({
          segment: audience.segment.name,
          channel: audience.channel,
          ...preview,
          ...(power ? { power } : {}),
        });
      printPreview(label, audience, preview);
      if (power) say(`\n${powerLine(power)}`);
    });
  segment
    .command('list [file]')
    .description('list the segments in force: built-in, from mailroom.yaml, and from FILE')
    .option('--json', 'print as JSON')
    .action((file: string | undefined, flags: { json?: boolean }) => {
      const { registry } = loadSegments(file);
      const rows = registry
        .all()
        .map((s) => ({ segment: s.name, description: s.description ?? '', defined: s.origin }));
      if (flags.json) return printJson(rows);
      say(formatTable(rows));
    });
}
