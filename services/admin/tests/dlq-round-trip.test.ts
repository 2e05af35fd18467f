import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { streamNames } from '@fuze/core';
import { openDatabase } from '@fuze/db';
import { dispatcherModule } from '@fuze/dispatcher';
import { gatewayModule } from '@fuze/gateway';
import { routerModule } from '@fuze/router';
import {
  callApi,
  createTestDatabase,
  type InProcessFuze,
  type NatsServerHandle,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { adminModule, applyRuleFiles } from '../src/index.js';

const prefix = 'DLQRT';
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;
let receiver: Server;
let failing = true;
/** Events the target accepted (2xx), in arrival order. */
const accepted: Array<{ id: string; key: string; n: number }> = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failing) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('billing is down');
        return;
      }
      const event = JSON.parse(Buffer.concat(chunks).toString()) as {
        id: string;
        data: { customer: string; n: number };
      };
      accepted.push({ id: event.id, key: event.data.customer, n: event.data.n });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  nats = await startNatsServer();
  db = await createTestDatabase();
  nc = await connect({ servers: nats.url });
  const port = (receiver.address() as AddressInfo).port;
  const rules = `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: orders }
spec:
  pattern: { type: [com.shop.order.placed] }
  targets:
    - name: billing
      http: { url: "http://127.0.0.1:${port}/events", timeout: 2s }
      ordering: { partitionKey: "$.data.customer", partitions: 4 }
      retry: { maxAttempts: 3, backoff: fixed, initialDelay: 10ms }
`;
  // Stored before the services start, so the router and dispatcher load them at start-up (a rule
  // applied while they run reaches them a moment later, and events published meanwhile match nothing).
  const database = await openDatabase({ url: db.url });
  await applyRuleFiles({ db: database.db, nats: nc, prefix }, [{ path: 'rules.yaml', content: rules }]);
  await database.close();
  fuze = await startInProcessFuze({
    modules: [gatewayModule, routerModule, dispatcherModule, adminModule],
    natsUrl: nats.url,
    env: { FUZE_DATABASE_URL: db.url, FUZE_STREAM_PREFIX: prefix, FUZE_LOG_LEVEL: 'error' },
  });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
  await new Promise((resolve) => receiver?.close(resolve));
});

function admin(method: string, path: string, body?: unknown) {
  return callApi<Record<string, unknown> & { items?: unknown[] }>(fuze.adminUrl, method, path, body);
}

/** Where the events are, for a timeout message. */
async function pipelineState() {
  const jsm = await jetstreamManager(nc);
  const streams = streamNames(prefix);
  const indexer = await jsm.consumers.info(streams.dlq, `${prefix}_DLQ_INDEXER`);
  return {
    indexed: ((await admin('GET', '/v1/dlq?limit=1000')).body.items ?? []).length,
    events: (await jsm.streams.info(streams.events)).state.messages,
    delivery: (await jsm.streams.info(streams.delivery)).state.messages,
    dlq: (await jsm.streams.info(streams.dlq)).state.messages,
    indexer: {
      pending: indexer.num_pending,
      ackPending: indexer.num_ack_pending,
      ackFloor: indexer.ack_floor,
    },
    accepted: accepted.length,
  };
}

interface Entry {
  id: string;
  eventId: string;
  state: string;
  stage: string;
  attempts: number;
  httpStatus: number;
  errorClass: string;
  firstAttemptAt: string;
  lastAttemptAt: string;
  partitionKey: string;
}

test('dead-letter round trip: always failing -> all in the DLQ -> fixed -> replay -> all delivered once', {
  timeout: 120_000,
}, async () => {
  const events = Array.from({ length: 30 }, (_, n) => ({
    specversion: '1.0',
    id: `rt-${n}`,
    source: '/shop',
    type: 'com.shop.order.placed',
    data: { customer: `cust-${n % 5}`, n },
  }));
  const published = await fetch(`${fuze.gatewayUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(events),
  });
  expect(published.status).toBe(202);

  // Every event dead-lettered, with its failure record, and indexed.
  const entries = await waitFor(
    async () => {
      const page = await admin('GET', '/v1/dlq?target=billing&limit=1000');
      const items = page.body.items as Entry[];
      return items.length === events.length ? items : undefined;
    },
    { timeoutMs: 60_000, message: 'every event in the DLQ index' },
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}; pipeline state: ${JSON.stringify(await pipelineState())}`, {
      cause: err,
    });
  });
  expect(accepted).toHaveLength(0);
  for (const e of entries) {
    expect(e).toMatchObject({ state: 'dead', stage: 'deliver', attempts: 3, httpStatus: 503 });
    expect(Date.parse(e.lastAttemptAt)).toBeGreaterThanOrEqual(Date.parse(e.firstAttemptAt));
  }
  expect(entries.map((e) => e.eventId).sort()).toEqual(events.map((e) => e.id).sort());
  const shown = await admin('GET', `/v1/dlq/${entries[0]!.id}`);
  expect(shown.body).toMatchObject({
    record: {
      failure: { stage: 'deliver', attempts: 3, httpStatus: 503, responseExcerpt: 'billing is down' },
    },
    body: { encoding: 'json', value: { id: entries[0]!.eventId } },
  });

  failing = false;
  const replay = await admin('POST', '/v1/dlq/replay', { filter: { target: 'billing' } });
  expect(replay).toMatchObject({ status: 202, body: { total: 30 } });
  const jobId = replay.body.id as string;
  await waitFor(async () => (await admin('GET', `/v1/replays/${jobId}`)).body.state === 'completed', {
    timeoutMs: 30_000,
    message: 'the replay job to complete',
  });
  expect((await admin('GET', `/v1/replays/${jobId}`)).body).toMatchObject({ total: 30, done: 30, failed: 0 });

  // Delivered, and the DELIVERY work queue drained: nothing more can arrive.
  const jsm = await jetstreamManager(nc);
  await waitFor(
    async () =>
      accepted.length >= events.length &&
      (await jsm.streams.info(streamNames(prefix).delivery)).state.messages === 0,
    { timeoutMs: 60_000, message: 'every replayed event delivered' },
  );
  const counts = new Map<string, number>();
  for (const a of accepted) counts.set(a.id, (counts.get(a.id) ?? 0) + 1);
  expect([...counts.keys()].sort()).toEqual(events.map((e) => e.id).sort());
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
  for (let k = 0; k < 5; k++) {
    const order = accepted.filter((a) => a.key === `cust-${k}`).map((a) => a.n);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  }

  const after = await admin('GET', '/v1/dlq?target=billing&limit=1000');
  expect((after.body.items as Entry[]).every((e) => e.state === 'replayed')).toBe(true);
  expect(after.body.items).toHaveLength(30);

  const again = await admin('POST', '/v1/dlq/replay', { filter: { target: 'billing' } });
  expect(again).toMatchObject({ status: 409, body: { code: 'FUZE_ALREADY_REPLAYED' } });
});
