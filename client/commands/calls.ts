// `mailroom calls list|import`: the account managers' work list of a call wave, and the outcomes
// they kept in a spreadsheet.
import { createWriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { context, withDatabase, withTemporalClient } from '../connect.ts';
import { notifyCallsChanged } from '../api.ts';
import { formatTable, printJson, say } from '../output.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { installationSecret } from '../../config/secret.ts';
import { storedCampaign } from '../../pipeline/calls/stored-campaign.ts';
import { callList, type CallListRow } from '../../pipeline/calls/call-list.ts';
import { loadCallScript } from '../../pipeline/calls/call-script.ts';
import { writeCallSheet } from '../../pipeline/calls/call-sheet-pdf.ts';
import { importCallOutcomes } from '../../pipeline/calls/import-outcomes.ts';
import { signManagerLink } from '../../pipeline/calls/manager-link.ts';
import { linkExpiry, pageUrl } from '../../pipeline/calls/signed-link.ts';

type Format = 'table' | 'csv' | 'pdf' | 'json';

function lastContactText(r: CallListRow): string {
  return r.last_contacts
    .map(
      (c) => `${c.at.slice(0, 10)} ${c.channel} ${c.who}: ${c.outcome ?? ''}${c.next_step ? ` → ${c.next_step}` : ''}`,
    )
    .join(' | ');
}

/** The sheet a manager fills in and hands back to `calls import`: its last columns are the outcome's. */
export function callListCsv(slug: string, rows: CallListRow[]): string {
  const header = [
    'task_id',
    'campaign',
    'wave',
    'manager',
    'customer',
    'name',
    'phone',
    'rank',
    'band',
    'offer',
    'status',
    'attempts',
    'script',
    'last_contacts',
    'outcome',
    'appointment_at',
    'call_back_on',
    'called_at',
    'note',
  ];
  const body = rows.map((r) => [
    r.task_id,
    slug,
    r.wave,
    r.manager,
    r.external_id,
    r.name,
    r.phone ?? '',
    r.rank ?? '',
    r.band ?? '',
    r.offer ?? '',
    r.status,
    `${r.attempts}/${r.attempts_allowed}`,
    r.script,
    lastContactText(r),
    '',
    '',
    '',
    '',
    '',
  ]);
  // A BOM, so spreadsheet programs open the Chinese text as UTF-8.
  return '\uFEFF' + stringify([header, ...body]);
}

function printBlocks(rows: CallListRow[]): void {
  if (!rows.length) return say('(no tasks)');
  rows.forEach((r, i) => {
    say(
      `${i + 1}. ${r.name}（${r.salutation}） ${r.phone ?? '(no phone)'}${r.phone_flagged ? ' [wrong number reported]' : ''}  task ${r.task_id} · ${r.manager} · ${r.status} ${r.attempts}/${r.attempts_allowed}${r.booked_online_at ? ` · booked online for ${r.booked_online_at.slice(0, 16).replace('T', ' ')} UTC: do not call` : ''}`,
    );
    say(`   rank ${r.rank ?? '—'} · band ${r.band ?? '—'} · offer ${r.offer ?? '—'}`);
    for (const line of r.script.split('\n')) say(`   ${line}`);
    for (const c of r.last_contacts)
      say(
        `   · ${c.at.slice(0, 16).replace('T', ' ')} ${c.channel} ${c.who}: ${c.outcome ?? ''}${c.next_step ? ` → ${c.next_step}` : ''}`,
      );
    say();
  });
}

export function registerCalls(program: Command): void {
  const cmd = program
    .command('calls')
    .description("the account managers' call tasks: work lists, outcomes from a sheet");

  cmd
    .command('list <campaign>')
    .description(
      'the call tasks of a campaign: name, phone, rank, band, offer, the call script and the last contacts, per manager',
    )
    .option('--manager <name>', "only this manager's tasks")
    .option('--wave <name>', 'only this call wave')
    .option('--due', 'only the tasks still to call (open or overdue)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'csv', 'pdf', 'json']).default('table'),
    )
    .option('--json', 'the same as --format json')
    .option('--out <file>', 'write to this file (PDF: default <campaign>[-<manager>]-calls.pdf)')
    .addHelpText(
      'after',
      '\nThe CSV is the sheet to fill in: its outcome, appointment_at, call_back_on, called_at and note columns go back with `mailroom calls import FILE`. The PDF is a printable call sheet.\nExit codes: 0 listed, 3 unknown campaign or wave, or a template problem, 4 the database is unreachable.',
    )
    .action(
      async (
        slug: string,
        flags: { manager?: string; wave?: string; due?: boolean; format: Format; json?: boolean; out?: string },
      ) => {
        const format: Format = flags.json ? 'json' : flags.format;
        const ctx = context({ quiet: format === 'json' });
        const asOf = new Date();
        const { campaign, rows } = await withDatabase(ctx, async (sql) => {
          const campaign = await storedCampaign(sql, slug);
          const rows = await callList(sql, campaign, {
            manager: flags.manager,
            wave: flags.wave,
            due: flags.due,
            secret: installationSecret(ctx.env, ctx.paths),
            trackingUrl: ctx.env.MAILROOM_TRACKING_URL,
            asOf,
          });
          return { campaign, rows };
        });
        if (format === 'json') return printJson({ campaign: slug, manager: flags.manager ?? null, tasks: rows });
        if (format === 'csv') {
          const text = callListCsv(slug, rows);
          if (!flags.out) return void process.stdout.write(text);
          const out = createWriteStream(flags.out);
          out.end(text);
          await new Promise<void>((done, fail) => out.on('finish', () => done()).on('error', fail));
          return ctx.say(`${rows.length} tasks written to ${flags.out}`);
        }
        if (format === 'pdf') {
          const path = flags.out ?? `${slug}${flags.manager ? `-${flags.manager}` : ''}-calls.pdf`;
          const wave = campaign.callWaves.find((w) => !flags.wave || w.name === flags.wave);
          const outcomes = wave
            ? loadCallScript(wave.template, dirname(campaign.file)).outcomes
            : loadCallScript('wealth-call-script', dirname(campaign.file)).outcomes;
          const out = createWriteStream(path);
          const opened = new Promise<void>((done, fail) => out.on('open', () => done()).on('error', fail));
          await opened.catch((error: Error) => {
            throw new UserError(`cannot write ${path}: ${error.message}`, ExitCode.badInput);
          });
          const pages = await writeCallSheet(rows, out, {
            campaign: slug,
            title: campaign.title,
            printedFor: asOf,
            outcomes,
          });
          return say(`Call sheet: ${path} (${rows.length} tasks, ${pages} pages)`);
        }
        say(
          `${slug}: ${rows.length} tasks${flags.manager ? ` of ${flags.manager}` : ''}${flags.due ? ' still to call' : ''}`,
        );
        printBlocks(rows);
      },
    );

  cmd
    .command('link <campaign>')
    .description(
      "a signed, expiring link to a manager's page on the tracking server: their open calls, a form per customer",
    )
    .requiredOption('--manager <name>', 'the manager the page is for (it shows only their tasks)')
    .option('--valid <duration>', 'how long the link works: 36h, 7d, 2w', '7d')
    .option('--json', 'print the link as JSON')
    .addHelpText(
      'after',
      '\nThe link is signed with the installation secret (MAILROOM_SECRET): an altered or expired link is refused and writes nothing. Send it to the manager only.\nExit codes: 0 printed, 2 a bad --valid, 3 unknown campaign, 4 the database is unreachable.',
    )
    .action(async (slug: string, flags: { manager: string; valid: string; json?: boolean }) => {
      const expiresAt = linkExpiry(flags.valid);
      const manager = flags.manager.trim();
      const ctx = context({ quiet: flags.json === true });
      const { campaignId, open } = await withDatabase(ctx, async (sql) => {
        const campaign = await storedCampaign(sql, slug);
        const [{ n } = { n: 0 }] = await sql<{ n: number }[]>`
          select count(*)::int as n from call_tasks
          where campaign_id = ${campaign.id} and manager = ${manager} and status in ('open', 'overdue')`;
        return { campaignId: campaign.id, open: n };
      });
      const token = signManagerLink(installationSecret(ctx.env, ctx.paths), { campaignId, manager, expiresAt });
      const url = pageUrl(ctx.env.MAILROOM_TRACKING_URL, 'calls', token);
      if (flags.json)
        return printJson({ campaign: slug, manager, url, expiresAt: expiresAt.toISOString(), openTasks: open });
      say(url);
      ctx.say(`For ${manager}: ${open} open tasks now; the link works until ${expiresAt.toISOString()}.`);
    });

  cmd
    .command('import <file>')
    .description(
      'record call outcomes kept in a spreadsheet (CSV: UTF-8, UTF-8 with BOM or GBK; Chinese or English headers)',
    )
    .option('--campaign <name>', 'the campaign, for a sheet without a campaign column')
    .option('--encoding <name>', 'the file encoding when it is not detected (utf8, gbk …)')
    .option('--rejects <file>', 'where to write rejected rows (default FILE.rejects.csv)')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Columns (either name): task_id 任务编号 | campaign 活动 + customer 客户编号 [+ wave 波次]; outcome 结果',
        '(appointment 已预约, declined 婉拒, call_back 约定回电, no_answer 无人接听, wrong_number 号码有误);',
        'appointment_at 预约时间 (2026-12-03 14:30, Beijing time unless it says +hh:mm); call_back_on 回电日期;',
        'called_at 通话时间; manager 客户经理; note 备注. The sheet from `calls list --format csv` has them all.',
        'Importing the same rows again changes nothing; rows naming a task already settled are counted, not applied.',
        'Exit codes: 0 imported (rejected rows are in the rejects file), 3 the file or its header is unusable, 4 the database is unreachable.',
      ].join('\n'),
    )
    .action(async (file: string, flags: { campaign?: string; encoding?: string; rejects?: string; json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const s = await withDatabase(ctx, (sql) =>
        importCallOutcomes(sql, {
          file,
          campaign: flags.campaign,
          encoding: flags.encoding,
          rejectsPath: flags.rejects,
        }),
      );
      // A call wave waiting on these tasks looks at them now rather than at its next periodic check.
      const told =
        s.campaigns.length === 0
          ? []
          : await withTemporalClient(ctx, (client) =>
              Promise.all(s.campaigns.map((slug) => notifyCallsChanged(client, slug))),
            ).catch(() => s.campaigns.map(() => false));
      if (flags.json) return printJson(s);
      say(`Call outcomes from ${file} (${s.encoding}):`);
      say(
        formatTable([
          {
            read: s.read,
            applied: s.applied,
            already_recorded: s.replayed,
            task_closed: s.closed,
            rejected: s.rejected,
          },
        ]),
      );
      if (s.unmatchedColumns.length) say(`Columns ignored: ${s.unmatchedColumns.join(', ')}`);
      if (s.rejectsPath) say(`Rejected rows, with their row numbers and reasons: ${s.rejectsPath}`);
      const untold = s.campaigns.filter((_, i) => !told[i]);
      if (untold.length)
        say(
          `Not told at once (the campaign is not running, or Temporal is unreachable): ${untold.join(', ')}; a running call wave sees the outcomes at its next periodic check.`,
        );
    });
}
