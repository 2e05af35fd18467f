import { openLeaseBuckets, readWorkerReports, sumOf } from '@fuze/bus';
import { defaultBus } from '@fuze/core';
import type { FuzeDb } from '@fuze/db';
import { requireScope } from '@fuze/http';
import { type RouterWorkerStats, routingStatsKey } from '@fuze/routing';
import { loadRuleCatalog } from '@fuze/runtime';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { openOnce } from '../open-once.js';

export interface BusesRoutesOptions {
  db: FuzeDb;
  nats: NatsConnection;
  streamPrefix: string;
}

const busSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    eventsPerSecond: { type: 'number', description: 'events routed per second, summed over the routers' },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          enabled: { type: 'boolean' },
          matchedPerSecond: { type: 'number' },
        },
      },
    },
  },
} as const;

/**
 * `GET /v1/buses`: every bus (with rules, a bus document, or events lately) and what the routers
 * report now: events per second, and per rule the events it matched per second.
 */
export async function busesRoutes(app: FastifyInstance, options: BusesRoutesOptions): Promise<void> {
  const openLeases = openOnce(() =>
    openLeaseBuckets(options.nats, options.streamPrefix).then((buckets) => buckets.heartbeats),
  );

  app.get(
    '/v1/buses',
    {
      preHandler: requireScope('rules:read'),
      schema: {
        tags: ['rules'],
        summary:
          'Every bus: events per second, and per rule the events matched per second (summed over the routers)',
        response: {
          200: {
            type: 'object',
            properties: {
              routers: { type: 'integer', description: 'routers that reported in the last 5 s' },
              items: { type: 'array', items: busSchema },
            },
          },
        },
      },
    },
    async () => {
      const [catalog, reports] = await Promise.all([
        loadRuleCatalog(options.db),
        routerReports(await openLeases()),
      ]);
      const sum = (read: (r: RouterWorkerStats) => number | undefined) => sumOf(reports, read);
      const names = new Set<string>([defaultBus]);
      for (const rule of catalog.rules) names.add(rule.bus);
      for (const bus of catalog.buses) names.add(bus.bus);
      for (const report of reports) for (const bus of Object.keys(report.eventsPerSecond)) names.add(bus);
      const items = [...names].sort().map((name) => ({
        name,
        eventsPerSecond: sum((r) => r.eventsPerSecond[name]),
        rules: catalog.rules
          .filter((rule) => rule.bus === name)
          .map((rule) => ({
            name: rule.name,
            enabled: rule.enabled,
            matchedPerSecond: sum((r) => r.matchedPerSecond[`${name}/${rule.name}`]),
          })),
      }));
      return { routers: reports.length, items };
    },
  );
}

/** Every router's latest report (the lease bucket's TTL has dropped those of routers gone). */
async function routerReports(kv: KV): Promise<RouterWorkerStats[]> {
  return (await readWorkerReports<RouterWorkerStats>(kv, routingStatsKey())).map((r) => r.report);
}
