import { createAdminClient } from '@fuze/core';
import type { Command } from 'commander';
import { adminConnection, runAdminAction, withAdminOptions } from '../admin-connection.js';
import { formatColumns } from '../output/columns.js';
import { followReplayJob, type ReplayJob } from '../replay-job.js';

interface ReplayOptions {
  bus: string;
  from: string;
  to: string;
  rule: string[];
  target: string[];
  dryRun?: boolean;
  rate?: string;
  detach?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `fuze replay`: an archive replay, a bus's events of a time window routed again (admin API). */
export function registerReplay(program: Command): void {
  withAdminOptions(program.command('replay'))
    .description(
      "Replay a bus's events accepted in [--from, --to) through its rules as they are now, in per-key order, and wait for the job",
    )
    .requiredOption('--bus <name>', 'the bus whose events to replay')
    .requiredOption('--from <time>', 'start of the window (included): RFC 3339, or a duration ago (2h)')
    .requiredOption('--to <time>', 'end of the window (excluded): RFC 3339, a duration ago, or now')
    .option(
      '--rule <name>',
      'only this rule of the bus (repeat for more; default: every enabled rule)',
      collect,
      [],
    )
    .option('--target <name>', 'only deliveries to this target (repeat for more)', collect, [])
    .option('--dry-run', 'count the events and deliveries per rule and target; deliver nothing')
    .option('--rate <n>', 'read at most this many events per second')
    .option('--detach', 'print the job id and return instead of waiting')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  fuze replay --bus orders --from 2026-12-01T09:00:00Z --to 2026-12-01T10:00:00Z --dry-run\n' +
        '  fuze replay --bus orders --from 2h --to now --rule billing --rate 500\n' +
        '  fuze replay --bus orders --from 1d --to 1h --detach     # follow with GET /v1/replays/<id>\n' +
        '\nNeeds the events:replay scope. Cancel a job with fuze dlq cancel <id>. See docs/archive-replay.md.',
    )
    .action((options: ReplayOptions, command: Command) => runAdminAction(() => replay(options, command)));
}

async function replay(options: ReplayOptions, command: Command): Promise<void> {
  const rate = options.rate === undefined ? undefined : Number(options.rate);
  if (rate !== undefined && !(Number.isInteger(rate) && rate > 0))
    throw new Error('--rate: a whole number of events per second, at least 1');
  const client = createAdminClient(adminConnection(command));
  const { body } = await client.request<ReplayJob>('POST', '/v1/archive/replays', {
    bus: options.bus,
    from: options.from,
    to: options.to,
    ...(options.rule.length > 0 ? { rules: options.rule } : {}),
    ...(options.target.length > 0 ? { targets: options.target } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(rate === undefined ? {} : { ratePerSecond: rate }),
  });
  console.error(`archive replay job ${body.id}${options.dryRun ? ' (dry run)' : ''}: bus ${options.bus}`);
  if (options.detach) {
    console.log(body.id);
    return;
  }
  const job = await followReplayJob(client, body.id);
  const archive = job.archive ?? { matched: 0, deliveries: 0, byRule: {}, byTarget: {} };
  const verb = options.dryRun ? 'would make' : 'made';
  console.log(
    `archive replay ${job.id} ${job.state}: ${job.done + job.failed} events read, ${archive.matched} matched, ${verb} ${archive.deliveries} deliveries` +
      (job.failed > 0 ? `, ${job.failed} events failed` : ''),
  );
  const rows = [
    ...Object.entries(archive.byRule).map(([name, n]) => ['rule', name, String(n)]),
    ...Object.entries(archive.byTarget).map(([name, n]) => ['target', name, String(n)]),
  ];
  if (rows.length > 0) console.log(formatColumns([['', 'NAME', 'DELIVERIES'], ...rows]));
  for (const f of job.failures) console.log(`  failed event ${f.id}: ${f.reason}`);
  if (job.error) console.log(`  error: ${job.error}`);
  if (job.state !== 'completed' || job.failed > 0) process.exitCode = 1;
}
