import { openFlowBucket, openLeaseBuckets, readWorkerReports } from '@fuze/bus';
import { streamNames } from '@fuze/core';
import { countDeadLettersByTarget, type FuzeDb } from '@fuze/db';
import {
  type BreakerState,
  deliveryConsumerName,
  type TargetWorkerStats,
  targetStatsKey,
} from '@fuze/delivery';
import { requireScope } from '@fuze/http';
import type { TargetSpec } from '@fuze/rules';
import { loadRuleCatalog } from '@fuze/runtime';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { openOnce } from '../open-once.js';
import { flowLimitsProperties, flowLimitsView } from './flow-limits-view.js';
import { liveProperties, liveView } from './target-live-view.js';

export interface TargetsRoutesOptions {
  db: FuzeDb;
  nats: NatsConnection;
  /** The process's JetStream manager: the backlog is read from the delivery consumers. */
  jsm: JetStreamManager;
  streamPrefix: string;
}

const targetSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: ['http', 'nats', 'consumer'] },
    rules: {
      type: 'array',
      items: { type: 'object', properties: { bus: { type: 'string' }, rule: { type: 'string' } } },
    },
    partitions: { type: 'integer' },
    ...flowLimitsProperties,
    live: {
      type: 'object',
      description: 'summed over the workers that reported in the last 5 s',
      properties: {
        ...liveProperties,
        backlog: {
          type: 'integer',
          description: 'deliveries stored for it and not yet acknowledged, over its partitions (its lag)',
        },
        deadLetters: { type: 'integer', description: 'dead letters waiting (state `dead`): its DLQ depth' },
        breaker: {
          type: ['string', 'null'],
          enum: ['closed', 'open', 'half-open', null],
          description: 'the shared circuit breaker state; null without a breaker',
        },
        breakerOpenUntil: { type: ['string', 'null'], format: 'date-time' },
      },
    },
  },
} as const;

/**
 * `GET /v1/targets`: every target the rules define, with its flow-control settings and what its
 * workers report now (attempts per second, in flight, partitions; the shared breaker state).
 */
export async function targetsRoutes(app: FastifyInstance, options: TargetsRoutesOptions): Promise<void> {
  const openBuckets = openOnce(() =>
    Promise.all([
      openLeaseBuckets(options.nats, options.streamPrefix).then((buckets) => buckets.heartbeats),
      openFlowBucket(options.nats, options.streamPrefix),
    ]).then(([leases, flow]) => ({ leases, flow })),
  );

  app.get(
    '/v1/targets',
    {
      preHandler: requireScope('rules:read'),
      schema: {
        tags: ['rules'],
        summary:
          'Every target: its rules, flow control, and live rates, latency, backlog, DLQ depth and breaker state',
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: targetSchema } } },
        },
      },
    },
    async () => {
      const catalog = await loadRuleCatalog(options.db);
      const { leases, flow } = await openBuckets();
      const [reports, backlogs, deadLetters] = await Promise.all([
        workerReports(leases),
        backlogByConsumer(options.jsm, options.streamPrefix),
        countDeadLettersByTarget(options.db),
      ]);
      const items = await Promise.all(
        [...catalog.targets.values()]
          .sort((a, b) => a.name.localeCompare(b.name))
          .map(async (spec) => {
            const rules = catalog.rules
              .filter((rule) => rule.document.targets.some((t) => t.name === spec.name))
              .map((rule) => ({ bus: rule.bus, rule: rule.name }));
            const workers = reports.filter((r) => r.target === spec.name).map((r) => r.stats);
            const breaker = spec.circuitBreaker ? await breakerState(flow, spec.name) : undefined;
            return {
              ...settingsOf(spec, catalog.partitionsOf(spec.name)),
              rules,
              live: {
                ...liveView(workers),
                backlog: backlogOf(
                  backlogs,
                  options.streamPrefix,
                  spec.name,
                  catalog.partitionsOf(spec.name),
                ),
                deadLetters: deadLetters.get(spec.name) ?? 0,
                breaker: breaker?.state ?? null,
                breakerOpenUntil: breaker?.state === 'open' ? new Date(breaker.until).toISOString() : null,
              },
            };
          }),
      );
      return { items };
    },
  );
}

function settingsOf(spec: TargetSpec, partitions: number) {
  return {
    name: spec.name,
    kind: spec.kind,
    partitions,
    ...flowLimitsView(spec),
  };
}

/** Every worker's latest report (the lease bucket's TTL has dropped those of workers gone). */
async function workerReports(kv: KV): Promise<Array<{ target: string; stats: TargetWorkerStats }>> {
  const reports = await readWorkerReports<TargetWorkerStats>(kv, targetStatsKey('*', '*'));
  return reports.map(({ key, report }) => ({ target: key.split('.')[1]!, stats: report }));
}

/** Messages each delivery consumer has not had acknowledged: waiting, or delivered and unacked. */
async function backlogByConsumer(jsm: JetStreamManager, prefix: string): Promise<Map<string, number>> {
  const backlog = new Map<string, number>();
  for await (const info of jsm.consumers.list(streamNames(prefix).delivery)) {
    backlog.set(info.name, info.num_pending + info.num_ack_pending);
  }
  return backlog;
}

function backlogOf(
  backlogs: Map<string, number>,
  prefix: string,
  target: string,
  partitions: number,
): number {
  let sum = backlogs.get(deliveryConsumerName(prefix, target, 'unordered')) ?? 0;
  for (let p = 0; p < partitions; p++) sum += backlogs.get(deliveryConsumerName(prefix, target, p)) ?? 0;
  return sum;
}

async function breakerState(kv: KV, target: string): Promise<BreakerState> {
  const entry = await kv.get(`breaker.${target}`);
  return entry && entry.operation === 'PUT'
    ? (entry.json() as BreakerState)
    : { state: 'closed', failures: 0, windowStart: 0 };
}
