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
    deliveredPerSecond: number;
    latencyMs: { p50: number; p99: number } | null;
    inFlight: number;
    backlog: number;
    deadLetters: number;
    breaker: string | null;
    breakerOpenUntil: string | null;
  };
}

/** `fuze targets`: every target with its flow control and what its workers report now (admin API). */
export function registerTargets(program: Command): void {
  withAdminOptions(program.command('targets'))
    .description(
      'List every target: its limits, and its live rates, latency, in-flight attempts, backlog, DLQ depth and circuit breaker',
    )
    .option('--json', 'print the API answer as JSON instead of a table')
    .addHelpText(
      'after',
      '\nRATE/S (attempts), DELIVERED/S, P99-MS (delivery latency) and IN-FLIGHT sum the workers (dispatcher ' +
        'processes, SDK consumers) that reported in the last 5 s; BACKLOG counts deliveries stored and not yet ' +
        'acknowledged, DLQ the dead letters waiting.\nNeeds the rules:read scope. See docs/rule-documents.md ' +
        '(flow control) and docs/console.md (the same figures in the web console).',
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
            [
              'NAME',
              'KIND',
              'PARTITIONS',
              'WORKERS',
              'RATE/S',
              'DELIVERED/S',
              'P99-MS',
              'IN-FLIGHT',
              'BACKLOG',
              'DLQ',
              'BREAKER',
              'LIMITS',
            ],
            ...body.items.map((t) => [
              t.name,
              t.kind,
              String(t.partitions),
              String(t.live.workers),
              String(t.live.attemptsPerSecond),
              String(t.live.deliveredPerSecond),
              t.live.latencyMs ? String(t.live.latencyMs.p99) : '-',
              String(t.live.inFlight),
              String(t.live.backlog),
              String(t.live.deadLetters),
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
