import { adminModule } from '@fuze/admin';
import { openRoutingBucket, readTargetSettings } from '@fuze/bus';
import { decodeDeliveryMessage, partitionFor, streamNames } from '@fuze/core';
import { gatewayModule } from '@fuze/gateway';
import {
  createTestDatabase,
  type InProcessFuze,
  type NatsServerHandle,
  readStream,
  type StoredMessage,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { routerModule } from '../src/index.js';

const prefix = 'RT';
const streams = streamNames(prefix);
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;

const rules = `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: big-orders }
spec:
  pattern: { type: [com.shop.order.placed], data: { total: [{ numeric: [">=", 100] }] } }
  targets:
    - name: billing
      http: { url: "http://127.0.0.1:9/billing" }
      ordering: { partitionKey: "$.data.customerId", partitions: 4 }
    - name: audit
      consumer: {}
      input: { paths: { id: "$.data.orderId" }, template: '{"order": <id>, "rule": <fuze.rule-name>}' }
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: every-order }
spec:
  pattern: { type: [{ prefix: com.shop.order. }] }
  targets:
    - name: archive
      nats: { subject: archive.orders }
`;

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${fuze.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: test helper reading arbitrary JSON answers
  return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as any };
}

async function publish(events: object[]) {
  const res = await fetch(`${fuze.gatewayUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(
      events.map((e, i) => ({ specversion: '1.0', source: '/shop', id: `ev-${Date.now()}-${i}`, ...e })),
    ),
  });
  expect(res.status).toBe(202);
  const body = (await res.json()) as { results: Array<{ id: string }> };
  return body.results.map((r) => r.id);
}

function deliveries(messages: StoredMessage[]) {
  return messages.map((m) => {
    const headers = { get: (k: string) => m.headers[k] ?? '', keys: () => Object.keys(m.headers) };
    return {
      subject: m.subject,
      envelope: decodeDeliveryMessage(headers, m.data),
      body: new TextDecoder().decode(m.data),
    };
  });
}

async function deliveriesFor(ids: string[], count: number) {
  return waitFor(
    async () => {
      const all = deliveries(await readStream(nc, streams.delivery)).filter((d) =>
        ids.includes(d.envelope.attributes.id!),
      );
      return all.length >= count ? all : undefined;
    },
    { timeoutMs: 20_000, message: `expected ${count} deliveries` },
  );
}

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase();
  fuze = await startInProcessFuze({
    modules: [adminModule, routerModule, gatewayModule],
    natsUrl: nats.url,
    env: { FUZE_DATABASE_URL: db.url, FUZE_STREAM_PREFIX: prefix },
  });
  nc = await connect({ servers: nats.url });
  const applied = await admin('POST', '/v1/apply', { files: [{ path: 'rules.yaml', content: rules }] });
  expect(applied.status).toBe(200);
  // Routers take a new revision on a notice (or their poll): an event routed before that matches
  // the rules it was routed under, none here. Probe until the rules are in force.
  const probes: string[] = [];
  await waitFor(
    async () => {
      probes.push(...(await publish([{ type: 'com.shop.order.probe', data: { probe: true } }])));
      const routed = deliveries(await readStream(nc, streams.delivery));
      return routed.some((d) => probes.includes(d.envelope.attributes.id!));
    },
    { timeoutMs: 60_000, intervalMs: 300, message: 'the applied rules to take effect' },
  );
}, 120_000);
afterAll(async () => {
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
});

describe('router', () => {
  test('fans a matched event out to every (rule, target) with partition, transformer and headers', async () => {
    const [id] = await publish([
      { type: 'com.shop.order.placed', data: { orderId: 'o-1', customerId: 'c-42', total: 250 } },
    ]);
    const found = await deliveriesFor([id!], 3);
    const byTarget = new Map(found.map((d) => [d.envelope.target, d]));
    expect([...byTarget.keys()].sort()).toEqual(['archive', 'audit', 'billing']);

    const billing = byTarget.get('billing')!;
    expect(billing.subject).toBe(`rt.deliver.billing.${partitionFor('c-42', 4)}`);
    expect(billing.envelope).toMatchObject({
      rule: 'big-orders',
      bus: 'default',
      partitionKey: 'c-42',
      contentType: 'application/cloudevents+json',
    });
    expect(JSON.parse(billing.body)).toMatchObject({
      id,
      type: 'com.shop.order.placed',
      data: { total: 250 },
    });
    expect(billing.envelope.eventSeq).toBeGreaterThan(0);
    expect(billing.envelope.acceptedAt).toBeGreaterThan(Date.now() - 60_000);

    const audit = byTarget.get('audit')!;
    expect(JSON.parse(audit.body)).toEqual({ order: 'o-1', rule: 'big-orders' });
    expect(audit.envelope.contentType).toBe('application/json');
    expect(audit.envelope.attributes).toMatchObject({ id, source: '/shop', type: 'com.shop.order.placed' });
    // no ordering key configured and no partitionkey extension: unordered
    expect(byTarget.get('archive')!.subject).toBe('rt.deliver.archive.unordered');
  });

  test('a partitionkey extension orders a target without a configured key; unmatched events are routed nowhere', async () => {
    const [small, keyed] = await publish([
      { type: 'com.shop.order.placed', data: { orderId: 'o-2', customerId: 'c-1', total: 5 } },
      { type: 'com.shop.order.shipped', partitionkey: 'order-9', data: {} },
      { type: 'com.other.thing', data: {} },
    ]);
    const found = await deliveriesFor([small!, keyed!], 2);
    expect(found.map((d) => [d.envelope.attributes.id, d.envelope.target]).sort()).toEqual(
      [
        [small, 'archive'],
        [keyed, 'archive'],
      ].sort(),
    );
    expect(found.find((d) => d.envelope.attributes.id === keyed)?.subject).toBe(
      `rt.deliver.archive.${partitionFor('order-9', 16)}`,
    );
  });

  test('same key, same partition, in the order the bus accepted the events', async () => {
    const events = Array.from({ length: 60 }, (_, i) => ({
      type: 'com.shop.order.placed',
      partitionkey: `cust-${i % 3}`,
      data: { orderId: `seq-${i}`, customerId: `cust-${i % 3}`, total: 100 + i },
    }));
    const ids = await publish(events);
    const found = (await deliveriesFor(ids, 180)).filter((d) => d.envelope.target === 'billing');
    for (const key of ['cust-0', 'cust-1', 'cust-2']) {
      const order = found
        .filter((d) => d.envelope.partitionKey === key)
        .map((d) => JSON.parse(d.body).data.total);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(order.length).toBe(20);
    }
  });

  test("consumer targets' settings are published for SDK consumers, and follow a rule change", async () => {
    const routing = await openRoutingBucket(nc, prefix);
    const audit = await waitFor(() => readTargetSettings(routing, 'audit'), { message: 'audit published' });
    expect(audit).toMatchObject({ partitions: 16, retry: { maxAttempts: 10, backoff: 'exponential' } });
    expect(await readTargetSettings(routing, 'billing')).toBeUndefined(); // an http target: the dispatcher's
    const changed = await admin('PUT', '/v1/rules/default/limited', {
      apiVersion: 'fuze.dev/v1',
      kind: 'Rule',
      metadata: { name: 'limited', bus: 'default' },
      spec: {
        pattern: { type: ['com.shop.limited'] },
        targets: [
          {
            name: 'limited-desk',
            consumer: {},
            ordering: { partitions: 2 },
            retry: { maxAttempts: 3 },
            rateLimit: { perSecond: 5 },
            maxConcurrency: 2,
          },
        ],
      },
    });
    expect(changed.status).toBe(200);
    const limited = await waitFor(() => readTargetSettings(routing, 'limited-desk'), {
      message: 'limited-desk published',
    });
    expect(limited).toMatchObject({
      partitions: 2,
      retry: { maxAttempts: 3 },
      rateLimit: { perSecond: 5, burst: 5 },
      maxConcurrency: 2,
    });
  });

  test('a rule change reaches the router without a restart, for later events only', async () => {
    const before = await publish([{ type: 'com.shop.refund.issued', data: { n: 1 } }]);
    const added = await admin('PUT', '/v1/rules/default/refunds', {
      apiVersion: 'fuze.dev/v1',
      kind: 'Rule',
      metadata: { name: 'refunds', bus: 'default' },
      spec: {
        pattern: { type: ['com.shop.refund.issued'] },
        targets: [{ name: 'refund-desk', consumer: {} }],
      },
    });
    expect(added.status).toBe(200);
    expect(added.body.created).toEqual([{ bus: 'default', name: 'refunds' }]);
    const after = await waitFor(
      async () => {
        const [id] = await publish([{ type: 'com.shop.refund.issued', data: { n: 2 } }]);
        const found = deliveries(await readStream(nc, streams.delivery)).some(
          (d) => d.envelope.attributes.id === id,
        );
        return found ? id : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, message: 'new rule never took effect' },
    );
    expect(after).toBeDefined();
    const all = deliveries(await readStream(nc, streams.delivery));
    expect(all.some((d) => d.envelope.attributes.id === before[0])).toBe(false);
  });

  test('a rule applied during a load run takes effect for later events only', async () => {
    let publishing = true;
    const published: string[] = [];
    const load = (async () => {
      for (let n = 0; publishing && n < 2_000; n++) {
        const ids = await publish([{ type: 'com.shop.load-run', subject: `s-${n % 8}`, data: { n } }]);
        published.push(...ids);
      }
    })();
    while (published.length < 100) await new Promise((r) => setTimeout(r, 20));
    const applied = await admin('PUT', '/v1/rules/default/load-run', {
      apiVersion: 'fuze.dev/v1',
      kind: 'Rule',
      metadata: { name: 'load-run', bus: 'default' },
      spec: { pattern: { type: ['com.shop.load-run'] }, targets: [{ name: 'load-sink', consumer: {} }] },
    });
    expect(applied.status).toBe(200);
    // Keep the load on until the router routes with the new rule, however long a busy machine takes.
    await waitFor(
      async () =>
        deliveries(await readStream(nc, streams.delivery)).some((d) => d.envelope.rule === 'load-run'),
      { timeoutMs: 60_000, intervalMs: 200, message: 'the rule applied during the load to take effect' },
    );
    publishing = false;
    await load;
    const lastId = published.at(-1)!;
    await deliveriesFor([lastId], 1);
    // In the events stream's order, per routing shard: unmatched events, then matched ones, never mixed.
    const delivered = new Set(
      deliveries(await readStream(nc, streams.delivery))
        .filter((d) => d.envelope.rule === 'load-run')
        .map((d) => d.envelope.attributes.id),
    );
    const events = (await readStream(nc, streams.events)).filter((m) =>
      m.subject.endsWith('.com.shop.load-run'),
    );
    const byShard = new Map<string, boolean[]>();
    for (const m of events) {
      const shard = m.subject.split('.')[3]!;
      byShard.set(shard, [...(byShard.get(shard) ?? []), delivered.has(m.json<{ id: string }>().id)]);
    }
    for (const flags of byShard.values()) {
      const firstMatched = flags.indexOf(true);
      expect(firstMatched).toBeGreaterThanOrEqual(0);
      expect(flags.slice(firstMatched).every(Boolean)).toBe(true);
    }
    expect(delivered.size).toBeGreaterThan(0);
    expect(delivered.size).toBeLessThan(published.length); // the events before the apply stayed unmatched
  });

  test('an event whose delivery cannot be built is dead-lettered with the reason, and the stream moves on', async () => {
    // Five copies of a 250 KB event make a delivery over NATS' 1 MB max_payload.
    const yaml = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: fragile }
spec:
  pattern: { type: [com.shop.fragile] }
  targets:
    - name: fragile-target
      consumer: {}
      input: { paths: { blob: "$.data.blob" }, template: '[<blob>, <blob>, <blob>, <blob>, <blob>]' }
`;
    expect(
      (await admin('POST', '/v1/apply', { files: [{ path: 'fragile.yaml', content: yaml }] })).status,
    ).toBe(200);
    // Routers reload on a notice: wait until a small event of the type is routed by the new rule.
    const probes = new Set<string>();
    await waitFor(
      async () => {
        const [probe] = await publish([{ type: 'com.shop.fragile', data: { blob: { probe: true } } }]);
        probes.add(probe!);
        const routed = deliveries(await readStream(nc, streams.delivery));
        return routed.some((d) => probes.has(d.envelope.attributes.id!));
      },
      { timeoutMs: 60_000, intervalMs: 300, message: 'the fragile rule to take effect' },
    );
    const [bad] = await publish([{ type: 'com.shop.fragile', data: { blob: 'x'.repeat(250_000) } }]);
    const [good] = await publish([{ type: 'com.shop.fragile', data: { blob: { ok: true } } }]);
    await deliveriesFor([good!], 1);
    const dlq = await waitFor(
      async () => {
        const records = (await readStream(nc, streams.dlq)).map((m) =>
          m.json<{
            attributes: { id: string };
            rule: string;
            target: string;
            failure: { stage: string; errorClass: string; message: string };
          }>(),
        );
        return records.length > 0 ? records : undefined;
      },
      { timeoutMs: 10_000, message: 'no dead letter' },
    );
    const record = dlq.find((r) => r.attributes.id === bad);
    expect(record).toMatchObject({
      rule: 'fragile',
      target: 'fragile-target',
      failure: { stage: 'route', errorClass: 'DeliveryTooLargeError' },
    });
    expect(record?.failure.message).toMatch(/max_payload/);
  });
});

describe('router faults of one event', () => {
  test('a partition key the router cannot read is a dead letter for that target; the other target still gets the event', async () => {
    const yaml = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: deep-keys }
spec:
  pattern: { type: [com.shop.deep] }
  targets:
    - name: deep-keyed
      consumer: {}
      ordering: { partitionKey: "$.data.x" }
    - name: deep-whole
      consumer: {}
`;
    expect((await admin('POST', '/v1/apply', { files: [{ path: 'deep.yaml', content: yaml }] })).status).toBe(
      200,
    );
    await waitFor(
      async () => {
        const [probe] = await publish([{ type: 'com.shop.deep', data: { x: 'k' } }]);
        const routed = deliveries(await readStream(nc, streams.delivery));
        return routed.some((d) => d.envelope.attributes.id === probe && d.envelope.target === 'deep-keyed');
      },
      { timeoutMs: 60_000, intervalMs: 300, message: 'the deep-keys rule to take effect' },
    );
    // A key nested 6,000 objects deep: JSON.stringify of it exceeds the call stack.
    const depth = 6_000;
    const id = `deep-${Date.now()}`;
    const body = `{"specversion":"1.0","source":"/shop","id":"${id}","type":"com.shop.deep","data":{"x":${'{"y":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
    const res = await fetch(`${fuze.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body,
    });
    expect(res.status).toBe(202);
    const [after] = await publish([{ type: 'com.shop.deep', data: { x: 'k2' } }]);
    await deliveriesFor([after!], 2);
    const delivered = deliveries(await readStream(nc, streams.delivery)).filter(
      (d) => d.envelope.attributes.id === id,
    );
    expect(delivered.map((d) => d.envelope.target)).toEqual(['deep-whole']);
    const record = await waitFor(
      async () =>
        (await readStream(nc, streams.dlq))
          .map((m) =>
            m.json<{
              attributes: { id: string };
              target: string;
              failure: { stage: string; errorClass: string };
            }>(),
          )
          .find((r) => r.attributes.id === id),
      { timeoutMs: 10_000, message: 'no dead letter for the deep key' },
    );
    expect(record).toMatchObject({
      target: 'deep-keyed',
      failure: { stage: 'route', errorClass: 'RangeError' },
    });
  });
});
