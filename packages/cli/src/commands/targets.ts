import { createAdminClient } from '@fuze/core';
import type { Command } from 'commander';
import { adminConnection, runAdminAction, withAdminOptions } from '../admin-connection.js';
import { formatColumns } from '../output/columns.js';
import { type FlowLimits, flowLimitsText } from '../output/flow-limits-text.js';

interface TargetView extends FlowLimits {
  name: string;
  kind: string;
  partitions: number;
  live: {
    workers: number;
    attemptsPerSecond: number;
    inFlight: number;
    breaker: string | null;
    breakerOpenUntil: string | null;
  };
}

/** `fuze targets`: every target with its flow control and what its workers report now (admin API). */
export function registerTargets(program: Command): void {
  withAdminOptions(program.command('targets'))
    .description('List every target: its limits, and its live rate, in-flight attempts and circuit breaker')
    .option('--json', 'print the API answer as JSON instead of a table')
    .addHelpText(
      'after',
      '\nRATE/S and IN-FLIGHT sum the workers (dispatcher processes, SDK consumers) that reported in the ' +
        'last 5 s.\nNeeds the rules:read scope. See docs/rule-documents.md (flow control).',
    )
    .action((options: { json?: boolean }, command: Command) =>
      runAdminAction(async () => {
        const client = createAdminClient(adminConnection(command));
        const { body } = await client.request<{ items: TargetView[] }>('GET', '/v1/targets');
        if (options.json) {
          console.log(JSON.stringify(body, null, 2));
          return;
        }
        if (body.items.length === 0) {
          console.log('no targets: apply a rule first');
          return;
        }
        console.log(
          formatColumns([
            ['NAME', 'KIND', 'PARTITIONS', 'WORKERS', 'RATE/S', 'IN-FLIGHT', 'BREAKER', 'LIMITS'],
            ...body.items.map((t) => [
              t.name,
              t.kind,
              String(t.partitions),
              String(t.live.workers),
              String(t.live.attemptsPerSecond),
              String(t.live.inFlight),
              breakerText(t),
              flowLimitsText(t),
            ]),
          ]),
        );
      }),
    );
}

function breakerText(t: TargetView): string {
  if (t.live.breaker === null) return '-';
  return t.live.breakerOpenUntil ? `open until ${t.live.breakerOpenUntil}` : t.live.breaker;
}
