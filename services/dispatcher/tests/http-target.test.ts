import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createLogger } from '@fuze/core';
import { type Database, openDatabase } from '@fuze/db';
import {
  createTestDatabase,
  deliveryEnvelope,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  readDeadLetters,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { environmentSecretStore, type RunningDispatcher, startDispatcher } from '../src/index.js';
import { applyRulesYaml, JetStreamPublisher, silent, WebhookReceiver } from './dispatcher-fixture.js';

const secretBytes = randomBytes(24);
const secret = `whsec_${secretBytes.toString('base64')}`;

let server: NatsServerHandle;
let nc: NatsConnection;
let publisher: JetStreamPublisher;
let testDb: TestDatabase;
let database: Database;
let receiver: WebhookReceiver;
let prefix: string;
let dispatcher: RunningDispatcher;

const rules = (url: string) => `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: webhooks }
spec:
  pattern: { type: [com.example.test] }
  targets:
    - name: signed
      http: { url: "${url}/signed", mode: binary, secretRef: hooks-key, headers: { X-Tenant: acme } }
      retry: { maxAttempts: 5, initialDelay: 10ms, maxDelay: 50ms }
    - name: structured
      http: { url: "${url}/structured", mode: structured, method: PUT }
    - name: throttled
      http: { url: "${url}/throttled" }
      retry: { maxAttempts: 5, backoff: fixed, initialDelay: 1ms }
    - name: refusing
      http: { url: "${url}/refusing" }
      retry: { maxAttempts: 5, initialDelay: 1ms, maxDelay: 5ms }
    - name: broken
      http: { url: "${url}/broken" }
      retry: { maxAttempts: 3, backoff: fixed, initialDelay: 5ms }
    - name: slow
      http: { url: "${url}/slow", timeout: 100ms }
      retry: { maxAttempts: 2, backoff: fixed, initialDelay: 1ms }
    - name: unreachable
      http: { url: "http://127.0.0.1:1/nothing-listens" }
      retry: { maxAttempts: 2, backoff: fixed, initialDelay: 1ms }
    - name: to-core-nats
      nats: { subject: "out.core" }
    - name: to-jetstream
      nats: { subject: "out.js.orders", jetstream: true }
`;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url, noAsyncTraces: true });
  publisher = new JetStreamPublisher(nc);
  prefix = await provisionStreams(nc);
  testDb = await createTestDatabase();
  database = await openDatabase({ url: testDb.url });
  receiver = await WebhookReceiver.start();
  await applyRulesYaml(database, rules(receiver.url));
  dispatcher = await startDispatcher({
    nc,
    js: jetstream(nc),
    publisher,
    db: database.db,
    streamPrefix: prefix,
    deliveryStream: `${prefix}_DELIVERY`,
    secrets: environmentSecretStore({ FUZE_SECRET_HOOKS_KEY: secret }),
    logger: process.env.DEBUG_DISPATCH ? createLogger('debug') : silent,
    tuning: { leaseTtlMs: 1_500 },
  });
});

afterAll(async () => {
  await dispatcher?.stop();
  await receiver?.close();
  await database?.close();
  await testDb?.drop();
  await publisher?.close();
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

/** Standard Webhooks verification written from the spec, independently of the dispatcher's code. */
function verifyStandardWebhook(
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): boolean {
  const id = String(headers['webhook-id']);
  const timestamp = String(headers['webhook-timestamp']);
  const signatures = String(headers['webhook-signature']).split(' ');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]))
    .digest();
  return signatures.some((candidate) => {
    const [version, mac] = candidate.split(',');
    const given = Buffer.from(mac ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

describe('http targets', () => {
  test('binary mode: ce-* headers, the data as body, configured headers, traceparent, Standard Webhooks signature', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await publishDeliveries(publisher, prefix, 16, [
      deliveryEnvelope({ target: 'signed', key: 'k', n: 1, event: { traceparent, subject: 'héllo wörld' } }),
    ]);
    const [request] = await waitFor(() =>
      receiver.on('/signed').length > 0 ? receiver.on('/signed') : undefined,
    );
    expect(request!.method).toBe('POST');
    expect(JSON.parse(request!.body.toString())).toEqual({ key: 'k', n: 1 });
    expect(request!.headers).toMatchObject({
      'content-type': 'application/json',
      'ce-id': 'k-1',
      'ce-source': '/tests/deliveries',
      'ce-type': 'com.example.test',
      'ce-specversion': '1.0',
      'ce-subject': 'h%C3%A9llo%20w%C3%B6rld',
      'x-tenant': 'acme',
      traceparent,
    });
    expect(request!.headers['ce-datacontenttype']).toBeUndefined();
    expect(request!.headers['webhook-id']).toMatch(/^msg_/);
    expect(Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    expect(verifyStandardWebhook(request!.headers, request!.body)).toBe(true);
    // A tampered body no longer verifies.
    expect(verifyStandardWebhook(request!.headers, Buffer.concat([request!.body, Buffer.from(' ')]))).toBe(
      false,
    );
  });

  test('the webhook-id stays the same across retries; each attempt is signed afresh', async () => {
    let calls = 0;
    const previous = receiver.respond;
    receiver.respond = (req, res) => {
      if (req.url === '/signed' && JSON.parse(req.body.toString()).n === 2 && ++calls === 1) {
        res.writeHead(500).end('try again');
        return;
      }
      return previous(req, res);
    };
    await publishDeliveries(publisher, prefix, 16, [
      deliveryEnvelope({ target: 'signed', key: 'retry', n: 2 }),
    ]);
    const attempts = await waitFor(() => {
      const found = receiver.on('/signed').filter((r) => JSON.parse(r.body.toString()).key === 'retry');
      return found.length === 2 ? found : undefined;
    });
    expect(attempts[0]!.headers['webhook-id']).toBe(attempts[1]!.headers['webhook-id']);
    for (const attempt of attempts) expect(verifyStandardWebhook(attempt.headers, attempt.body)).toBe(true);
    receiver.respond = previous;
  });

  test('structured mode sends the whole event as application/cloudevents+json with the configured method', async () => {
    await publishDeliveries(publisher, prefix, 16, [
      deliveryEnvelope({ target: 'structured', key: 's', n: 1 }),
    ]);
    const [request] = await waitFor(() =>
      receiver.on('/structured').length > 0 ? receiver.on('/structured') : undefined,
    );
    expect(request!.method).toBe('PUT');
    expect(request!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(JSON.parse(request!.body.toString())).toMatchObject({ id: 's-1', data: { key: 's', n: 1 } });
    expect(request!.headers['webhook-signature']).toBeUndefined();
  });

  test('429 with Retry-After (seconds, then an HTTP date) is retried no earlier than asked', async () => {
    const answers = ['seconds', 'date'];
    let askedUntil = 0;
    receiver.respond = (req, res) => {
      if (req.url !== '/throttled') return void res.writeHead(204).end();
      const next = answers.shift();
      if (next === 'seconds') return void res.writeHead(429, { 'retry-after': '1' }).end();
      if (next === 'date') {
        // HTTP dates have whole seconds: ask for a whole second at least 1.5 s away.
        askedUntil = Math.ceil((Date.now() + 1_500) / 1_000) * 1_000;
        return void res.writeHead(503, { 'retry-after': new Date(askedUntil).toUTCString() }).end();
      }
      res.writeHead(200).end();
    };
    await publishDeliveries(publisher, prefix, 16, [
      deliveryEnvelope({ target: 'throttled', key: 't', n: 1 }),
    ]);
    const attempts = await waitFor(
      () => (receiver.on('/throttled').length === 3 ? receiver.on('/throttled') : undefined),
      { timeoutMs: 15_000 },
    );
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(attempts[2]!.at).toBeGreaterThanOrEqual(askedUntil);
  });

  test('a 4xx is not retried: straight to the DLQ with status and a ≤ 1 KiB excerpt, and the key moves on', async () => {
    const longBody = `refused: ${'é'.repeat(2_000)}`;
    receiver.respond = (req, res) => {
      if (req.url !== '/refusing') return void res.writeHead(204).end();
      if (JSON.parse(req.body.toString()).id === 'r-1') return void res.writeHead(422).end(longBody);
      res.writeHead(202).end();
    };
    await publishDeliveries(publisher, prefix, 16, [
      deliveryEnvelope({ target: 'refusing', key: 'r', n: 1 }),
      deliveryEnvelope({ target: 'refusing', key: 'r', n: 2 }),
    ]);
    await waitFor(() => receiver.on('/refusing').length === 2, { message: 'the next event of the key' });
    const [record] = await waitFor(async () => {
      const found = (await readDeadLetters(nc, prefix)).filter((r) => r.target === 'refusing');
      return found.length > 0 ? found : undefined;
    });
    expect(record!.failure).toMatchObject({
      stage: 'deliver',
      attempts: 1,
      retryable: false,
      errorClass: 'HttpStatusError',
      httpStatus: 422,
    });
    const excerpt = record!.failure.responseExcerpt!;
    expect(Buffer.byteLength(excerpt)).toBeLessThanOrEqual(1_024);
    expect(Buffer.byteLength(excerpt)).toBeGreaterThan(1_000);
    expect(longBody.startsWith(excerpt)).toBe(true);
    expect(record).toMatchObject({ rule: 'test-rule', partitionKey: 'r', attributes: { id: 'r-1' } });
    expect(JSON.parse(Buffer.from(record!.body, 'base64').toString())).toMatchObject({ id: 'r-1' });
  });

  test('5xx until the policy gives up: dead-lettered with attempts = maxAttempts', async () => {
    receiver.respond = (req, res) => {
      if (req.url === '/broken') return void res.writeHead(503).end('down for maintenance');
      res.writeHead(204).end();
    };
    await publishDeliveries(publisher, prefix, 16, [deliveryEnvelope({ target: 'broken', key: 'b', n: 1 })]);
    const [record] = await waitFor(async () => {
      const found = (await readDeadLetters(nc, prefix)).filter((r) => r.target === 'broken');
      return found.length > 0 ? found : undefined;
    });
    expect(receiver.on('/broken')).toHaveLength(3);
    expect(record!.failure).toMatchObject({
      attempts: 3,
      retryable: true,
      httpStatus: 503,
      errorClass: 'HttpStatusError',
      responseExcerpt: 'down for maintenance',
    });
  });

  test('timeouts and refused connections are retried, then dead-lettered with their class', async () => {
    receiver.respond = (req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(204).end(), 1_000);
      res.writeHead(204).end();
    };
    await publishDeliveries(publisher, prefix, 16, [
      deliveryEnvelope({ target: 'slow', key: 'x', n: 1 }),
      deliveryEnvelope({ target: 'unreachable', key: 'y', n: 1 }),
    ]);
    const records = await waitFor(async () => {
      const found = (await readDeadLetters(nc, prefix)).filter((r) =>
        ['slow', 'unreachable'].includes(r.target),
      );
      return found.length === 2 ? found : undefined;
    });
    expect(records.find((r) => r.target === 'slow')!.failure).toMatchObject({
      attempts: 2,
      errorClass: 'TimeoutError',
    });
    expect(records.find((r) => r.target === 'unreachable')!.failure).toMatchObject({
      attempts: 2,
      errorClass: 'ConnectionError',
    });
  });
});

describe('nats targets', () => {
  test('core NATS: the body with content-type and ce-* headers', async () => {
    const sub = nc.subscribe('out.core', { max: 1 });
    await publishDeliveries(publisher, prefix, 16, [
      deliveryEnvelope({ target: 'to-core-nats', key: 'c', n: 1 }),
    ]);
    for await (const msg of sub) {
      expect(msg.headers?.get('content-type')).toBe('application/cloudevents+json');
      expect(msg.headers?.get('ce-id')).toBe('c-1');
      expect(msg.json()).toMatchObject({ id: 'c-1', data: { n: 1 } });
    }
  });

  test('JetStream: stored once in the target stream, with a Nats-Msg-Id', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `${prefix}_OUT`, subjects: ['out.js.>'] });
    await publishDeliveries(publisher, prefix, 16, [
      deliveryEnvelope({ target: 'to-jetstream', key: 'j', n: 1 }),
    ]);
    const stored = await waitFor(async () => {
      const info = await jsm.streams.info(`${prefix}_OUT`);
      return info.state.messages === 1
        ? jsm.streams.getMessage(`${prefix}_OUT`, { seq: info.state.last_seq })
        : undefined;
    });
    expect(stored.header?.get('Nats-Msg-Id')).toMatch(/^msg_/);
    expect(stored.header?.get('ce-id')).toBe('j-1');
  });
});
