import { createAdminClient, FuzeError, isFuzeError, readServerSentEvents, retryDelayMs } from '@fuze/core';
import type { Command } from 'commander';
import { adminConnection, describeError, runAdminAction, withAdminOptions } from '../admin-connection.js';
import { readFileValue } from '../file-value.js';

interface TailOptions {
  bus: string;
  pattern?: string;
  since?: string;
  maxEvents?: string;
}

/** `fuze tail`: a bus's events as they arrive, one JSON line each (the admin API's live tail). */
export function registerTail(program: Command): void {
  withAdminOptions(program.command('tail'))
    .description("Print a bus's events as they arrive, one CloudEvent (JSON) a line")
    .option('--bus <name>', 'the bus', 'default')
    .option(
      '--pattern <file>',
      'only events matching this EventBridge pattern (JSON or YAML file; - for stdin)',
    )
    .option('--since <time>', 'start at this RFC 3339 time, or this long ago (5m, 1h); default: from now')
    .option('--max-events <n>', 'exit after printing this many events')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  fuze tail --bus orders\n' +
        "  fuze tail --bus fuze --pattern dead-letters.json     # Fuze's own events\n" +
        '  fuze tail --since 10m | jq .type\n' +
        '\nNeeds the events:read scope. A dropped or broken stream is resumed after the last event printed.' +
        '\nSee docs/live-tail.md.',
    )
    .action(async (options: TailOptions, command: Command) => runAdminAction(() => tail(options, command)));
}

async function tail(options: TailOptions, command: Command): Promise<void> {
  const client = createAdminClient(adminConnection(command));
  const maxEvents = options.maxEvents === undefined ? Number.POSITIVE_INFINITY : Number(options.maxEvents);
  if (!Number.isInteger(maxEvents) && maxEvents !== Number.POSITIVE_INFINITY)
    throw new FuzeError('FUZE_INVALID_REQUEST', `--max-events "${options.maxEvents}" is not a whole number`);
  const query = new URLSearchParams({ bus: options.bus });
  if (options.pattern !== undefined)
    query.set('pattern', JSON.stringify(readFileValue('--pattern', options.pattern)));
  if (options.since !== undefined) query.set('since', options.since);

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  let lastEventId: string | undefined;
  let printed = 0;
  let failures = 0;
  while (!stop.signal.aborted && printed < maxEvents) {
    try {
      const response = await client.open(`/v1/tail?${query}`, {
        signal: stop.signal,
        ...(lastEventId === undefined ? {} : { headers: { 'last-event-id': lastEventId } }),
      });
      failures = 0;
      console.error(
        `fuze: tailing bus ${options.bus}${lastEventId === undefined ? '' : ` after event ${lastEventId}`} (Ctrl-C to stop)`,
      );
      for await (const event of readServerSentEvents(response.body!)) {
        if (event.event === 'dropped') {
          console.error(`fuze: the server dropped this tail (${event.data}); resuming`);
          break;
        }
        process.stdout.write(`${event.data}\n`);
        lastEventId = event.lastEventId;
        if (++printed >= maxEvents) break;
      }
      if (printed >= maxEvents) stop.abort();
    } catch (err) {
      if (stop.signal.aborted) break;
      // A refusal (bad pattern, no scope) will not change by retrying; a lost connection may.
      if (isFuzeError(err) && err.code !== 'FUZE_ADMIN_UNREACHABLE' && err.code !== 'FUZE_NATS_UNAVAILABLE')
        throw err;
      failures++;
      console.error(`fuze: ${describeError(err)}; reconnecting`);
    }
    if (stop.signal.aborted || printed >= maxEvents) break;
    await new Promise((resolve) => setTimeout(resolve, retryDelayMs(failures + 1, 250, 5_000)));
  }
}
