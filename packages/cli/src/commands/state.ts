import { createAdminClient } from '@fuze/core';
import type { Command } from 'commander';
import { adminConnection, runAdminAction, withAdminOptions } from '../admin-connection.js';

interface StatePage {
  items: Array<{ key: string; partition: number }>;
  nextCursor?: string;
}

const statePath = (processor: string, key?: string) =>
  `/v1/processors/${encodeURIComponent(processor)}/state${key === undefined ? '' : `/${encodeURIComponent(key)}`}`;

/** `fuze state get|list|delete`: stateful processors' per-key state through the admin API. */
export function registerState(program: Command): void {
  const state = program
    .command('state')
    .description("Stateful processors' per-key state (admin API)")
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  fuze state get --processor averages --key AAPL\n' +
        '  fuze state list --processor averages --all\n' +
        '  fuze state delete --processor averages --key AAPL\n' +
        '\nNeeds the state:read scope (state:write to delete). See docs/processors.md.',
    );

  withAdminOptions(state.command('get'))
    .description("Show a key's state: the JSON the handler set, the last event applied (seq), its size")
    .requiredOption('--processor <name>', "the processor's consumer target")
    .requiredOption('--key <key>', 'the partition key')
    .action((options: { processor: string; key: string }, command: Command) =>
      runAdminAction(async () => {
        const client = createAdminClient(adminConnection(command));
        console.log(
          JSON.stringify(
            (await client.request('GET', statePath(options.processor, options.key))).body,
            null,
            2,
          ),
        );
      }),
    );

  withAdminOptions(state.command('list'))
    .description('List the keys holding state, in key order (one page, or --all)')
    .requiredOption('--processor <name>', "the processor's consumer target")
    .option('--limit <n>', 'keys per page, 1-1000 (default 100)')
    .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)')
    .option('--all', 'follow every page and print all keys')
    .action(
      (options: { processor: string; limit?: string; cursor?: string; all?: boolean }, command: Command) =>
        runAdminAction(async () => {
          const client = createAdminClient(adminConnection(command));
          const query = new URLSearchParams();
          if (options.limit !== undefined) query.set('limit', options.limit);
          if (options.cursor !== undefined) query.set('cursor', options.cursor);
          const page = async () =>
            (await client.request<StatePage>('GET', `${statePath(options.processor)}?${query}`)).body;
          if (!options.all) {
            console.log(JSON.stringify(await page(), null, 2));
            return;
          }
          const items: StatePage['items'] = [];
          for (;;) {
            const next = await page();
            items.push(...next.items);
            if (next.nextCursor === undefined) break;
            query.set('cursor', next.nextCursor);
          }
          console.log(JSON.stringify({ items }, null, 2));
        }),
    );

  withAdminOptions(state.command('delete'))
    .description("Delete a key's state (its processor handles the key's next event on an empty state)")
    .requiredOption('--processor <name>', "the processor's consumer target")
    .requiredOption('--key <key>', 'the partition key')
    .action((options: { processor: string; key: string }, command: Command) =>
      runAdminAction(async () => {
        await createAdminClient(adminConnection(command)).request(
          'DELETE',
          statePath(options.processor, options.key),
        );
        console.error(`deleted the state of key ${options.key} of processor ${options.processor}`);
      }),
    );
}
