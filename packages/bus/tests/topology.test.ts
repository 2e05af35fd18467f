import { createLogger, FuzeError, loadConfig, streamNames } from '@fuze/core';
import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import { jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureTopology, leaseTtlMs, openLeaseBuckets } from '../src/index.js';

let server: NatsServerHandle;
let nc: NatsConnection;
const logger = createLogger('silent');

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

describe('ensureTopology', () => {
  test('creates the three streams with the configured settings', async () => {
    const jsm = await jetstreamManager(nc);
    const names = await ensureTopology(jsm, loadConfig({ FUZE_STREAM_PREFIX: 'T1' }).streams, logger);
    expect(names).toEqual(streamNames('T1'));
    const events = await jsm.streams.info('T1_EVENTS');
    expect(events.config).toMatchObject({
      subjects: ['t1.events.>'],
      retention: RetentionPolicy.Limits,
      max_age: nanos(7 * 86_400_000),
      duplicate_window: nanos(120_000),
    });
    expect((await jsm.streams.info('T1_DELIVERY')).config.retention).toBe(RetentionPolicy.Workqueue);
    expect((await jsm.streams.info('T1_DLQ')).config.max_age).toBe(nanos(30 * 86_400_000));
  });

  test('is idempotent and never loses data; a changed setting is updated in place', async () => {
    const jsm = await jetstreamManager(nc);
    const streams = loadConfig({ FUZE_STREAM_PREFIX: 'T2' }).streams;
    await ensureTopology(jsm, streams, logger);
    const js = jetstream(nc);
    for (let i = 0; i < 50; i++) await js.publish('t2.events.default.x', `e${i}`);
    await ensureTopology(jsm, streams, logger);
    expect((await jsm.streams.info('T2_EVENTS')).state.messages).toBe(50);

    const changed = loadConfig({
      FUZE_STREAM_PREFIX: 'T2',
      FUZE_EVENTS_MAX_AGE: '3d',
      FUZE_DEDUPE_WINDOW: '5m',
    }).streams;
    await ensureTopology(jsm, changed, logger);
    const info = await jsm.streams.info('T2_EVENTS');
    expect(info.config.max_age).toBe(nanos(3 * 86_400_000));
    expect(info.config.duplicate_window).toBe(nanos(300_000));
    expect(info.state.messages).toBe(50);
  });

  test('a setting JetStream cannot change is reported clearly, and nothing is touched', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: 'T3_DELIVERY',
      subjects: ['t3.deliver.>'],
      retention: RetentionPolicy.Limits,
    });
    await jetstream(nc).publish('t3.deliver.x.0', 'keep me');
    const error = await ensureTopology(jsm, loadConfig({ FUZE_STREAM_PREFIX: 'T3' }).streams, logger).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(FuzeError);
    expect(error.code).toBe('FUZE_TOPOLOGY_CONFLICT');
    expect(error.message).toMatch(
      /stream T3_DELIVERY has retention=limits but Fuze needs retention=workqueue/,
    );
    expect(error.message).toMatch(/docs\/operations\.md/);
    expect((await jsm.streams.info('T3_DELIVERY')).state.messages).toBe(1);
  });

  test('creates the lease and checkpoint buckets, and brings an existing bucket to the configured TTL in place', async () => {
    const jsm = await jetstreamManager(nc);
    // A lease bucket created earlier by someone else (an SDK consumer), with another TTL.
    await openLeaseBuckets(nc, 'T4', 1_000);
    await ensureTopology(jsm, loadConfig({ FUZE_STREAM_PREFIX: 'T4' }).streams, logger);
    const leases = await jsm.streams.info('KV_T4_LEASES');
    expect(leases.config.max_age).toBe(nanos(leaseTtlMs));
    expect(leases.config.num_replicas).toBe(1);
    const owners = await jsm.streams.info('KV_T4_LEASE_OWNERS');
    expect(owners.config.max_age).toBe(0);
    expect(owners.config.max_msgs_per_subject).toBe(1);
    const checkpoints = await jsm.streams.info('KV_T4_CHECKPOINTS');
    expect(checkpoints.config.max_age).toBe(0);
    expect(checkpoints.config.max_msgs_per_subject).toBe(1);
  });
});
