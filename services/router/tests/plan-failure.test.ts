import {
  Checkpoint,
  ensureBuckets,
  ensureTopology,
  JetStreamPublisher,
  openCheckpointBucket,
  openFence,
} from '@fuze/bus';
import {
  createLogger,
  defaultRouting,
  encodeEventMessage,
  loadConfig,
  routerDeadLetterTarget,
} from '@fuze/core';
import type { DeliveryPlan, RuleSnapshot } from '@fuze/routing';
import { compileMatcher } from '@fuze/rules';
import { type NatsServerHandle, readStream, startNatsServer, waitFor } from '@fuze/test/harness';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ShardRouter } from '../src/shard-router.js';

let nats: NatsServerHandle;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
});
afterAll(async () => {
  await nc?.close();
  await nats?.[Symbol.asyncDispose]();
});

/**
 * A shard router of bus `default` with the given rules, and three events of its shard (it follows
 * partitionkey) ready to publish.
 */
async function startRouter(prefix: string, rules: RuleSnapshot) {
  const logger = createLogger('silent');
  const config = loadConfig({ FUZE_STREAM_PREFIX: prefix });
  const jsm = await jetstreamManager(nc);
  const streams = await ensureTopology(jsm, config.streams, logger);
  await ensureBuckets(jsm, config.streams, logger);
  const publisher = new JetStreamPublisher(nc);
  const plans: DeliveryPlan[] = [];
  const counts = { unreadable: 0 };
  const events = ['a', 'b', 'c'].map((id) => ({
    specversion: '1.0' as const,
    id,
    source: '/planner',
    type: 'com.test.planned',
    partitionkey: 'k-0',
  }));
  const requests = events.map((e) => encodeEventMessage(prefix, 'default', e, defaultRouting));
  const shardSubject = requests[0]!.subject;
  const shard = Number(shardSubject.split('.')[3]);
  const router = new ShardRouter(shard, {
    js: jetstream(nc),
    jsm,
    publisher,
    eventsStream: streams.events,
    prefix,
    logger,
    rules: () => rules,
    routed: (plan) => plans.push(plan),
    unreadable: () => (counts.unreadable += 1),
    maxPayloadBytes: () => 1024 * 1024,
    fence: openFence,
    checkpoint: new Checkpoint(await openCheckpointBucket(nc, prefix), `router.${shard}`),
  });
  /** Waits until every message is settled (acked or terminated) and `unreadable` were counted. */
  const settled = (unreadable: number) =>
    waitFor(
      async () => {
        const info = await jsm.consumers.info(streams.events, `router-${shard}`);
        return info.num_pending === 0 && info.num_ack_pending === 0 && counts.unreadable === unreadable;
      },
      { timeoutMs: 10_000, message: 'the shard to settle every message' },
    );
  return { streams, publisher, plans, requests, shardSubject, router, settled };
}

// Traced events are parsed whole and matched from the parse; untraced ones matched from the text.
describe.each([
  { mode: 'untraced', traced: false },
  { mode: 'traced', traced: true },
])('$mode', ({ traced }) => {
  beforeAll(() => {
    if (traced) trace.setGlobalTracerProvider(new BasicTracerProvider());
  });
  afterAll(() => {
    if (traced) trace.disable();
  });
  const suffix = traced ? 'T' : '';

  test('an event the planner fails on is dead-lettered to _router with the error, and the shard moves on', async () => {
    // A planner fault on every event: the matcher is the planner's first step.
    const failing: RuleSnapshot = new Map([
      [
        'default',
        {
          revision: 1,
          matcher: {
            match: () => {
              throw new TypeError('a planner bug');
            },
            matchJson: () => {
              throw new TypeError('a planner bug');
            },
            ruleCount: 1,
            stateCount: 1,
          },
          rules: new Map(),
        },
      ],
    ]);
    const { streams, publisher, plans, requests, shardSubject, router, settled } = await startRouter(
      `PF${suffix}`,
      failing,
    );
    try {
      for (const request of requests) await publisher.publish(request);
      await jetstream(nc).publish(shardSubject, 'not json');

      const records = await waitFor(
        async () => {
          const dead = (await readStream(nc, streams.dlq)).map((m) =>
            m.json<{
              target: string;
              rule: string;
              attributes: { id: string };
              body: string;
              failure: { stage: string; errorClass: string; message: string };
            }>(),
          );
          return dead.length >= 3 ? dead : undefined;
        },
        { timeoutMs: 20_000, message: 'three plan-stage dead letters' },
      );
      expect(records.map((r) => r.attributes.id)).toEqual(['a', 'b', 'c']);
      for (const record of records) {
        expect(record).toMatchObject({
          target: routerDeadLetterTarget,
          rule: '',
          failure: { stage: 'plan', errorClass: 'TypeError', message: 'a planner bug' },
        });
        expect(JSON.parse(Buffer.from(record.body, 'base64').toString()).source).toBe('/planner');
      }
      expect(plans.every((p) => p.routes[0]?.target === routerDeadLetterTarget)).toBe(true);
      // Every message settled: the three dead-lettered ones acked, the unreadable one terminated.
      await settled(1);
    } finally {
      await router.stop();
      await publisher.close();
    }
  });

  test('events no rule matches are acked without a plan; bytes that are no JSON are still unreadable', async () => {
    const rules: RuleSnapshot = new Map([
      [
        'default',
        {
          revision: 1,
          matcher: compileMatcher([{ id: 'other', pattern: { type: ['com.test.other'] } }]),
          rules: new Map(),
        },
      ],
    ]);
    const { streams, publisher, plans, requests, shardSubject, router, settled } = await startRouter(
      `PU${suffix}`,
      rules,
    );
    try {
      for (const request of requests) await publisher.publish(request);
      await jetstream(nc).publish(shardSubject, 'not json');
      await jetstream(nc).publish(shardSubject, '{"type": "com.test.other", "data": [1, }');
      // The three events and the malformed object: one unreadable each for the two non-JSON texts.
      await settled(2);
      expect(plans).toHaveLength(3);
      expect(plans.every((plan) => plan.publishes.length === 0 && plan.matchedRules.length === 0)).toBe(true);
      expect(await readStream(nc, streams.dlq)).toHaveLength(0);
    } finally {
      await router.stop();
      await publisher.close();
    }
  });
});
