import { createAdminClient } from '@fuze/core';
import { type Command, Option } from 'commander';
import { adminConnection, runAdminAction, withAdminOptions } from '../admin-connection.js';
import { formatColumns } from '../output/columns.js';
import { followReplayJob, type ReplayJob } from '../replay-job.js';

const states = ['dead', 'replaying', 'replayed', 'purged'];
const filterFields = ['target', 'rule', 'bus', 'type', 'source', 'from', 'to', 'error', 'state'] as const;
type FilterOptions = Partial<Record<(typeof filterFields)[number], string>>;

interface DeadLetter {
  id: string;
  deadLetteredAt: string;
  state: string;
  target: string;
  rule: string;
  type: string;
  eventId: string;
  attempts: number;
  errorClass: string;
  errorMessage: string;
}

/** The same filter flags on list, replay and purge. */
function withFilters(command: Command): Command {
  return command
    .option('--target <target>', 'the target the delivery was for')
    .option('--rule <rule>', 'the rule that matched')
    .option('--bus <bus>', 'the bus the event was on')
    .option('--type <type>', 'the CloudEvent type')
    .option('--source <source>', 'the CloudEvent source')
    .option('--from <time>', 'dead-lettered at or after (RFC 3339)')
    .option('--to <time>', 'dead-lettered at or before (RFC 3339)')
    .option('--error <text>', 'text in the error class or message (case-insensitive)')
    .addOption(new Option('--state <state>', 'dead, replaying, replayed or purged').choices(states));
}

function filterOf(options: FilterOptions): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const field of filterFields) if (options[field] !== undefined) filter[field] = options[field];
  return filter;
}

/** `fuze dlq list|show|replay|purge|cancel`: the dead-letter queue through the admin API. */
export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('Dead letters: list, show, replay and purge them (admin API)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  fuze dlq list --target billing --error timeout\n' +
        '  fuze dlq show <id>\n' +
        '  fuze dlq replay --target billing --rate 50\n' +
        '  fuze dlq replay <id> <id> --to-target billing-v2 --detach\n' +
        '  fuze dlq purge --state replayed --to 2030-01-01T00:00:00Z\n' +
        '\nSee docs/dead-letters.md.',
    );

  withFilters(withAdminOptions(dlq.command('list')))
    .description('List dead letters, newest first (one page, or --all); purged ones only with --state purged')
    .option('--limit <n>', 'entries per page, 1-1000 (default 100)')
    .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)')
    .option('--all', 'follow every page')
    .option('--json', 'print the API answer as JSON instead of a table')
    .action(
      (
        options: FilterOptions & { limit?: string; cursor?: string; all?: boolean; json?: boolean },
        command: Command,
      ) =>
        runAdminAction(async () => {
          const client = createAdminClient(adminConnection(command));
          const query = new URLSearchParams(filterOf(options));
          if (options.limit !== undefined) query.set('limit', options.limit);
          if (options.cursor !== undefined) query.set('cursor', options.cursor);
          const items: DeadLetter[] = [];
          let nextCursor: string | undefined;
          for (;;) {
            const page = (
              await client.request<{ items: DeadLetter[]; nextCursor?: string }>('GET', `/v1/dlq?${query}`)
            ).body;
            items.push(...page.items);
            nextCursor = page.nextCursor;
            if (!options.all || nextCursor === undefined) break;
            query.set('cursor', nextCursor);
          }
          if (options.json) {
            console.log(
              JSON.stringify({ items, ...(nextCursor === undefined ? {} : { nextCursor }) }, null, 2),
            );
            return;
          }
          console.log(formatTable(items));
          if (nextCursor !== undefined) console.error(`more: --cursor ${nextCursor}`);
        }),
    );

  withAdminOptions(dlq.command('show'))
    .description('Show a dead letter: its failure, the full record and the decoded body (JSON)')
    .argument('<id>', 'dead letter id')
    .action((id: string, _options: unknown, command: Command) =>
      runAdminAction(async () => {
        const client = createAdminClient(adminConnection(command));
        const { body } = await client.request('GET', `/v1/dlq/${encodeURIComponent(id)}`);
        console.log(JSON.stringify(body, null, 2));
      }),
    );

  withFilters(withAdminOptions(dlq.command('replay')))
    .description('Replay dead letters (ids, or those the filter matches) and wait for the job')
    .argument('[ids...]', 'dead letter ids (instead of a filter)')
    .option('--all', 'no filter: replay every dead letter')
    .option('--dry-run', 'count and show a sample of what would be replayed; replay nothing')
    .option('--to-target <target>', "replay to this target instead of each entry's own")
    .option('--rate <n>', 'at most this many entries per second')
    .option('--force', 'also replay entries that were already replayed successfully')
    .option('--detach', 'print the job id and return instead of waiting')
    .action(
      (
        ids: string[],
        options: FilterOptions & {
          all?: boolean;
          dryRun?: boolean;
          toTarget?: string;
          rate?: string;
          force?: boolean;
          detach?: boolean;
        },
        command: Command,
      ) =>
        runAdminAction(async () => {
          const filter = filterOf(options);
          const hasFilter = Object.keys(filter).length > 0;
          if (ids.length > 0 && (hasFilter || options.all)) {
            throw new Error('give dead letter ids or filter flags (or --all), not both');
          }
          if (ids.length === 0 && !hasFilter && !options.all) {
            throw new Error('give dead letter ids, filter flags, or --all to replay every dead letter');
          }
          const rate = options.rate === undefined ? undefined : Number(options.rate);
          if (rate !== undefined && !(Number.isInteger(rate) && rate > 0)) {
            throw new Error('--rate: a whole number of entries per second, at least 1');
          }
          const client = createAdminClient(adminConnection(command));
          const request = {
            ...(ids.length > 0 ? { ids } : { filter, ...(options.all ? { all: true } : {}) }),
            ...(options.dryRun ? { dryRun: true } : {}),
            ...(options.toTarget === undefined ? {} : { target: options.toTarget }),
            ...(rate === undefined ? {} : { ratePerSecond: rate }),
            ...(options.force ? { force: true } : {}),
          };
          const { body } = await client.request<{
            id: string;
            total: number;
            skipped: { alreadyReplayed: number; inAnotherJob: number };
            sample?: DeadLetter[];
          }>('POST', '/v1/dlq/replay', request);
          const skipped = describeSkipped(body.skipped);
          if (options.dryRun) {
            console.log(`would replay ${body.total} dead letter${body.total === 1 ? '' : 's'}${skipped}`);
            if (body.sample && body.sample.length > 0) console.log(formatTable(body.sample));
            return;
          }
          console.error(`replay job ${body.id}: ${body.total} to replay${skipped}`);
          if (options.detach) {
            console.log(body.id);
            return;
          }
          const job = await followReplayJob(client, body.id);
          console.log(
            `replay job ${job.id} ${job.state}: ${job.done} replayed, ${job.failed} failed, ${job.skipped} skipped`,
          );
          for (const f of job.failures) console.log(`  failed ${f.id}: ${f.reason}`);
          if (job.state !== 'completed' || job.failed > 0) process.exitCode = 1;
        }),
    );

  withFilters(withAdminOptions(dlq.command('purge')))
    .description(
      'Purge the dead letters the filter matches (audited); deletes their records from the DLQ stream',
    )
    .option('--all', 'no filter: purge every dead letter')
    .action((options: FilterOptions & { all?: boolean }, command: Command) =>
      runAdminAction(async () => {
        const filter = filterOf(options);
        if (Object.keys(filter).length === 0 && !options.all) {
          throw new Error('give filter flags, or --all to purge every dead letter');
        }
        const query = new URLSearchParams(filter);
        if (options.all) query.set('all', 'true');
        const client = createAdminClient(adminConnection(command));
        const { body } = await client.request<{ purged: number; skipped: number; auditId: number }>(
          'DELETE',
          `/v1/dlq?${query}`,
        );
        console.log(
          `purged ${body.purged} dead letter${body.purged === 1 ? '' : 's'}` +
            (body.skipped > 0 ? ` (${body.skipped} left alone: being replayed)` : '') +
            ` (audit record ${body.auditId})`,
        );
      }),
    );

  withAdminOptions(dlq.command('cancel'))
    .description('Cancel a replay job; entries not yet replayed stay in the DLQ')
    .argument('<job>', 'replay job id')
    .action((job: string, _options: unknown, command: Command) =>
      runAdminAction(async () => {
        const client = createAdminClient(adminConnection(command));
        const { body } = await client.request<ReplayJob>('DELETE', `/v1/replays/${encodeURIComponent(job)}`);
        console.log(`replay job ${body.id} ${body.state}: ${body.done} of ${body.total} replayed`);
      }),
    );
}

function describeSkipped(skipped: { alreadyReplayed: number; inAnotherJob: number } | undefined): string {
  if (!skipped) return '';
  const parts = [];
  if (skipped.alreadyReplayed > 0) parts.push(`${skipped.alreadyReplayed} already replayed (use --force)`);
  if (skipped.inAnotherJob > 0) parts.push(`${skipped.inAnotherJob} in another replay job`);
  return parts.length > 0 ? `; skipped ${parts.join(', ')}` : '';
}

function formatTable(items: DeadLetter[]): string {
  if (items.length === 0) return 'no dead letters';
  return formatColumns([
    ['ID', 'DEAD-LETTERED', 'STATE', 'TARGET', 'RULE', 'TYPE', 'EVENT', 'ATTEMPTS', 'ERROR'],
    ...items.map((d) => [
      d.id,
      d.deadLetteredAt,
      d.state,
      d.target,
      d.rule,
      d.type,
      d.eventId,
      String(d.attempts),
      `${d.errorClass}: ${d.errorMessage}`.slice(0, 80),
    ]),
  ]);
}
