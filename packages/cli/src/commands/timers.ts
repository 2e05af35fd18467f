import { createAdminClient } from '@fuze/core';
import { createTimersClient, type PutManyTimerInput, timersPerBatch } from '@fuze/sdk';
import { type Command, Option } from 'commander';
import { adminConnection, runAdminAction, withAdminOptions } from '../admin-connection.js';
import { readFileValue } from '../file-value.js';

interface PutOptions {
  at?: string;
  delay?: string;
  cron?: string;
  tz?: string;
  rate?: string;
  event: string;
  misfire?: string;
  misfireGrace?: string;
  bus?: string;
  rearmAfter?: string;
  rearmTimes?: string;
}

interface ListOptions {
  prefix?: string;
  state?: string;
  dueFrom?: string;
  dueTo?: string;
  limit?: string;
  cursor?: string;
  all?: boolean;
}

interface TimerPage {
  items: unknown[];
  nextCursor?: string;
}

/** `fuze timers put|get|list|delete`: timers through the admin API. */
export function registerTimers(program: Command): void {
  const timers = program
    .command('timers')
    .description('Timers that fire an event at a time set on the record (admin API)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  fuze timers put cert-renew:example.com --at 2030-01-01T09:00:00Z --event renew.json\n' +
        '  fuze timers put retrain:model-a --rate 6h --event retrain.yaml\n' +
        '  fuze timers put daily-report --cron "0 9 * * MON-FRI" --tz Europe/Paris --event report.json\n' +
        '  fuze timers put-many --file renewals.yaml\n' +
        '  fuze timers list --prefix cert-renew: --state scheduled\n' +
        '\nSee docs/timers.md.',
    );

  withAdminOptions(timers.command('put'))
    .description('Create or replace (re-arm) a timer')
    .argument('<key>', 'timer key: letters, digits and _ . : @ -')
    .requiredOption(
      '--event <file>',
      'the CloudEvent to publish (JSON or YAML; - for stdin), without id/time',
    )
    .option('--at <time>', 'fire once at this RFC 3339 time, e.g. 2030-01-01T09:00:00Z')
    .option('--delay <duration>', 'fire once after this long, e.g. 30s, 15m, 30d')
    .option('--cron <expression>', 'fire on this five-field cron expression, e.g. "0 9 * * MON-FRI"')
    .option('--tz <zone>', 'IANA time zone of --cron, e.g. Europe/Paris (default UTC)')
    .option('--rate <duration>', 'fire every period, e.g. 6h (at least 1s)')
    .addOption(
      new Option(
        '--misfire <policy>',
        'after an outage: fire the first missed time once, all, or none',
      ).choices(['fire-once', 'fire-all', 'skip']),
    )
    .option('--misfire-grace <duration>', 'how late a firing may be before it is a misfire (default 60s)')
    .option('--bus <bus>', 'the bus the event enters (default: default)')
    .option(
      '--rearm-after <duration>',
      'one-shot timers: fire again this long after a firing whose event was dead-lettered, e.g. 10m',
    )
    .option('--rearm-times <n>', 'with --rearm-after: re-arm at most this many times (default 1)')
    .action((key: string, options: PutOptions, command: Command) =>
      runAdminAction(async () => {
        const timings = (['at', 'delay', 'cron', 'rate'] as const).filter((t) => options[t] !== undefined);
        if (timings.length !== 1) {
          throw new Error('give exactly one of --at, --delay, --cron or --rate');
        }
        if (options.tz !== undefined && options.cron === undefined) throw new Error('--tz goes with --cron');
        if (options.rearmTimes !== undefined && options.rearmAfter === undefined)
          throw new Error('--rearm-times goes with --rearm-after');
        const body = {
          event: readFileValue('--event', options.event),
          [timings[0]!]: options[timings[0]!],
          ...(options.tz === undefined ? {} : { timezone: options.tz }),
          ...(options.misfire === undefined ? {} : { misfire: options.misfire }),
          ...(options.misfireGrace === undefined ? {} : { misfireGrace: options.misfireGrace }),
          ...(options.bus === undefined ? {} : { bus: options.bus }),
          ...(options.rearmAfter === undefined
            ? {}
            : {
                rearm: {
                  after: options.rearmAfter,
                  ...(options.rearmTimes === undefined ? {} : { times: Number(options.rearmTimes) }),
                },
              }),
        };
        const client = createAdminClient(adminConnection(command));
        const { status, body: timer } = await client.request('PUT', timerPath(key), body);
        console.error(status === 201 ? `created timer ${key}` : `replaced timer ${key}`);
        print(timer);
      }),
    );

  withAdminOptions(timers.command('put-many'))
    .description(
      `Create or replace many timers from a file, ${timersPerBatch} per request (each all or none)`,
    )
    .requiredOption(
      '--file <file>',
      'a JSON or YAML list of timers, each { key, event, at|delay|cron|rate, timezone?, misfire?, misfireGrace?, bus?, rearm? } (- for stdin)',
    )
    .action((options: { file: string }, command: Command) =>
      runAdminAction(async () => {
        const timers = readFileValue<unknown>('--file', options.file);
        if (!Array.isArray(timers) || timers.length === 0)
          throw new Error(`--file: ${options.file} must hold a non-empty list of timers`);
        const client = createTimersClient(adminConnection(command));
        const outcomes = await client.putMany(timers as PutManyTimerInput[]);
        const created = outcomes.filter((o) => o.created).length;
        console.error(`created ${created} timer(s), replaced ${outcomes.length - created}`);
        print({ timers: outcomes });
      }),
    );

  withAdminOptions(timers.command('get'))
    .description('Show a timer: definition, state, next and last firing, fire count')
    .argument('<key>', 'timer key')
    .action((key: string, _options: unknown, command: Command) =>
      runAdminAction(async () => {
        print((await createAdminClient(adminConnection(command)).request('GET', timerPath(key))).body);
      }),
    );

  withAdminOptions(timers.command('list'))
    .description('List timers in key order (one page, or --all)')
    .option('--prefix <prefix>', 'keys starting with this')
    .addOption(
      new Option('--state <state>', 'only timers in this state').choices([
        'scheduled',
        'completed',
        'cancelled',
        'paused',
        'failed',
      ]),
    )
    .option('--due-from <time>', 'next fire time at or after (RFC 3339)')
    .option('--due-to <time>', 'next fire time at or before (RFC 3339)')
    .option('--limit <n>', 'timers per page, 1-1000 (default 100)')
    .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)')
    .option('--all', 'follow every page and print all timers')
    .action((options: ListOptions, command: Command) =>
      runAdminAction(async () => {
        const client = createAdminClient(adminConnection(command));
        const query = new URLSearchParams();
        const set = (name: string, value: string | undefined) => {
          if (value !== undefined) query.set(name, value);
        };
        set('prefix', options.prefix);
        set('state', options.state);
        set('dueFrom', options.dueFrom);
        set('dueTo', options.dueTo);
        set('limit', options.limit);
        set('cursor', options.cursor);
        if (!options.all) {
          print((await client.request<TimerPage>('GET', `/v1/timers?${query}`)).body);
          return;
        }
        const items: unknown[] = [];
        for (;;) {
          const page = (await client.request<TimerPage>('GET', `/v1/timers?${query}`)).body;
          items.push(...page.items);
          if (page.nextCursor === undefined) break;
          query.set('cursor', page.nextCursor);
        }
        print({ items });
      }),
    );

  withAdminOptions(timers.command('delete'))
    .alias('cancel')
    .description('Cancel a timer (its record stays, state cancelled; put re-arms it)')
    .argument('<key>', 'timer key')
    .action((key: string, _options: unknown, command: Command) =>
      runAdminAction(async () => {
        await createAdminClient(adminConnection(command)).request('DELETE', timerPath(key));
        console.error(`cancelled timer ${key}`);
      }),
    );
  withAdminOptions(timers.command('fire'))
    .description(
      'Fire a scheduled timer now (a cron or rate timer then goes on with its schedule; a one-shot one completes)',
    )
    .argument('<key>', 'timer key')
    .action((key: string, _options: unknown, command: Command) =>
      runAdminAction(async () => {
        await createAdminClient(adminConnection(command)).request('POST', `${timerPath(key)}/fire`);
        console.error(`timer ${key} is due now`);
      }),
    );
}

function timerPath(key: string): string {
  return `/v1/timers/${encodeURIComponent(key)}`;
}

/** A JSON or YAML file given to `option` (YAML reads JSON too); `-` reads stdin. */
function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
