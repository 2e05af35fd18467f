import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CloudEventRecord, createAjv, streamNames, systemEventTypes } from '@fuze/core';
import { openDatabase } from '@fuze/db';
import { dispatcherModule } from '@fuze/dispatcher';
import { gatewayModule } from '@fuze/gateway';
import { routerModule } from '@fuze/router';
import { schedulerModule } from '@fuze/scheduler';
import {
  callApi,
  createTestDatabase,
  type InProcessFuze,
  type NatsServerHandle,
  readStream,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminModule, applyRuleFiles } from '../src/index.js';

// Fuze's own events on the system bus `fuze`, end to end: a dead letter, a timer whose event
// dead-letters, a replay that finishes, each reaching a rule on bus `fuze`; a failing rule on
// that bus produces no further system events.
const prefix = 'SYSEV';
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;
let receiver: Server;
/** Requests to `/slow-ok` answered (after 2.5 s). */
let slowAnswered = 0;
/** System events the `alerts` target received. */
const alerts: CloudEventRecord[] = [];

const ajv = createAjv();
const validators = new Map(
  systemEventTypes.map((type) => [
    type,
    ajv.compile(
      JSON.parse(
        readFileSync(new URL(`../../../schemas/system-events/${type}.schema.json`, import.meta.url), 'utf8'),
      ) as object,
    ),
  ]),
);

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/alerts') {
        alerts.push(JSON.parse(Buffer.concat(chunks).toString()) as CloudEventRecord);
        res.writeHead(200).end();
      } else if (req.url === '/ok') res.writeHead(200).end();
      else if (req.url === '/slow-ok')
        setTimeout(() => {
          res.writeHead(200).end();
          slowAnswered++;
        }, 2_500);
      else res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  nats = await startNatsServer();
  db = await createTestDatabase();
  nc = await connect({ servers: nats.url });
  const failing = (name: string) => `
    - name: ${name}
      http: { url: "${base}/fail", timeout: 2s }
      retry: { maxAttempts: 1 }`;
  const rules = `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: orders }
spec:
  pattern: { type: [com.shop.order.placed] }
  targets:${failing('billing')}
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: reminders }
spec:
  pattern: { type: [com.shop.reminder] }
  targets:${failing('reminder-mailer')}
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: greetings }
spec:
  pattern: { type: [com.shop.greeting] }
  targets:
    - name: greeter
      http: { url: "${base}/ok", timeout: 2s }
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: mixed }
spec:
  pattern: { type: [com.shop.mixed] }
  targets:
    - name: greeter-2
      http: { url: "${base}/slow-ok", timeout: 5s }${failing('mixed-mailer')}
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: alerts, bus: fuze }
spec:
  pattern: { source: [{ prefix: /fuze/ }] }
  targets:
    - name: alerts
      http: { url: "${base}/alerts", timeout: 2s }
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: pager, bus: fuze }
spec:
  pattern: { type: [dev.fuze.delivery.dead-lettered] }
  targets:${failing('pager')}
`;
  const database = await openDatabase({ url: db.url });
  await applyRuleFiles({ db: database.db, nats: nc, prefix }, [{ path: 'rules.yaml', content: rules }]);
  await database.close();
  fuze = await startInProcessFuze({
    modules: [gatewayModule, routerModule, dispatcherModule, schedulerModule, adminModule],
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
  return callApi(fuze.adminUrl, method, path, body);
}

function alertsOf(type: string): Array<CloudEventRecord & { data: Record<string, unknown> }> {
  return alerts.filter((e) => e.type === type) as Array<CloudEventRecord & { data: Record<string, unknown> }>;
}

/** Every system event received so far is valid against its published data schema. */
function expectValidData(): void {
  for (const event of alerts) {
    const validate = validators.get(event.type as (typeof systemEventTypes)[number]);
    expect(validate, `a schema for ${event.type}`).toBeDefined();
    expect(validate!(event.data), `${event.type}: ${JSON.stringify(validate!.errors)}`).toBe(true);
  }
}

describe('system events', () => {
  test('a dead-lettered delivery is announced on bus fuze, with the dead letter id', {
    timeout: 60_000,
  }, async () => {
    const res = await fetch(`${fuze.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'order-1',
        source: '/shop',
        type: 'com.shop.order.placed',
        data: { total: 10 },
      }),
    });
    expect(res.status).toBe(202);
    await waitFor(
      () => alertsOf('dev.fuze.delivery.dead-lettered').some((e) => e.data.target === 'billing'),
      {
        timeoutMs: 45_000,
        message: 'the dead-lettered event of billing at the alerts target',
      },
    );
    const announced = alertsOf('dev.fuze.delivery.dead-lettered').find((e) => e.data.target === 'billing')!;
    expect(announced).toMatchObject({
      source: '/fuze/dead-letters',
      subject: 'billing',
      data: {
        bus: 'default',
        rule: 'orders',
        event: { id: 'order-1', source: '/shop', type: 'com.shop.order.placed' },
        failure: { stage: 'deliver', attempts: 1, httpStatus: 503, retryable: true },
      },
    });
    const stored = await admin('GET', `/v1/dlq/${announced.data.deadLetterId as string}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ target: 'billing', eventId: 'order-1' });
    expectValidData();
  });

  test('a failing rule on the system bus dead-letters without announcing it (no loop)', {
    timeout: 60_000,
  }, async () => {
    // `pager` receives every dead-lettered event and fails: its own dead letters are indexed...
    await waitFor(
      async () => ((await admin('GET', '/v1/dlq?target=pager')).body.items as unknown[]).length > 0,
      { timeoutMs: 45_000, message: "the pager's dead letter indexed" },
    );
    // ...and, once the indexer has acked everything (it announces before it acks), the system bus
    // holds no dead-lettered event for a pager dead letter.
    const jsm = await jetstreamManager(nc);
    const streams = streamNames(prefix);
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(streams.dlq, `${prefix}_DLQ_INDEXER`);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs: 20_000, message: 'the DLQ indexer to ack every record' },
    );
    const systemEvents = (await readStream(nc, streams.events))
      .filter((m) => m.subject.startsWith(`${prefix.toLowerCase()}.events.fuze.`))
      .map((m) => m.json<CloudEventRecord & { data: { target?: string } }>());
    const deadLettered = systemEvents.filter((e) => e.type === 'dev.fuze.delivery.dead-lettered');
    expect(deadLettered.length).toBeGreaterThan(0);
    expect(deadLettered.filter((e) => e.data.target === 'pager')).toEqual([]);
  });

  test("a timer's firing is announced, and its dead-lettered event fails the timer visibly", {
    timeout: 60_000,
  }, async () => {
    const put = await admin('PUT', '/v1/timers/remind:order-1', {
      event: { type: 'com.shop.reminder', source: '/shop/reminders', data: { order: 'order-1' } },
      at: new Date().toISOString(),
    });
    expect(put.status).toBeLessThan(300);
    await waitFor(() => alertsOf('dev.fuze.timer.failed').length > 0, {
      timeoutMs: 45_000,
      message: 'dev.fuze.timer.failed at the alerts target',
    });
    const fired = alertsOf('dev.fuze.timer.fired').find((e) => e.subject === 'remind:order-1');
    expect(fired?.data).toMatchObject({
      key: 'remind:order-1',
      generation: 1,
      bus: 'default',
      eventSource: '/shop/reminders',
      eventType: 'com.shop.reminder',
    });
    const failed = alertsOf('dev.fuze.timer.failed')[0]!;
    expect(failed).toMatchObject({
      source: '/fuze/timers',
      subject: 'remind:order-1',
      data: {
        key: 'remind:order-1',
        reason: 'dead-lettered',
        rule: 'reminders',
        target: 'reminder-mailer',
        eventId: fired!.data.eventId,
        dueAt: fired!.data.dueAt,
      },
    });
    const timer = await admin('GET', '/v1/timers/remind:order-1');
    expect(timer.body).toMatchObject({
      state: 'completed',
      lastOutcome: {
        state: 'dead-lettered',
        dueAt: fired!.data.dueAt,
        deadLetterId: failed.data.deadLetterId,
        rule: 'reminders',
        target: 'reminder-mailer',
      },
    });
    expect(String((timer.body.lastOutcome as { error: string }).error)).toContain('503');
    expectValidData();
  });

  test('a timer whose event was delivered reads delivered, naming the target', {
    timeout: 60_000,
  }, async () => {
    const put = await admin('PUT', '/v1/timers/greet:1', {
      event: { type: 'com.shop.greeting', source: '/shop/greetings' },
      at: new Date().toISOString(),
    });
    expect(put.status).toBe(201);
    let timer: Record<string, unknown> = {};
    await waitFor(
      async () => {
        timer = (await admin('GET', '/v1/timers/greet:1')).body;
        return (timer.lastOutcome as { state?: string } | null)?.state === 'delivered';
      },
      { timeoutMs: 45_000, message: 'lastOutcome delivered' },
    );
    expect(timer).toMatchObject({
      state: 'completed',
      lastOutcome: { state: 'delivered', rule: 'greetings', target: 'greeter', dueAt: timer.lastDueAt },
    });
    expect(Date.parse((timer.lastOutcome as { deliveredAt: string }).deliveredAt)).toBeGreaterThanOrEqual(
      Date.parse(timer.lastDueAt as string),
    );
  });

  test('a dead letter of a firing wins over its delivery to another target', {
    timeout: 60_000,
  }, async () => {
    const put = await admin('PUT', '/v1/timers/mixed:1', {
      event: { type: 'com.shop.mixed', source: '/shop/mixed' },
      at: new Date().toISOString(),
    });
    expect(put.status).toBe(201);
    await waitFor(() => alertsOf('dev.fuze.timer.failed').some((e) => e.subject === 'mixed:1'), {
      timeoutMs: 45_000,
      message: 'the firing dead-lettered at mixed-mailer',
    });
    // greeter-2 answers after 2.5 s, after the dead letter was recorded; its delivery, written
    // within a flush (250 ms), must not hide the dead letter.
    await waitFor(() => slowAnswered > 0, { timeoutMs: 20_000, message: 'greeter-2 answered' });
    await new Promise((r) => setTimeout(r, 1_500));
    const timer = await admin('GET', '/v1/timers/mixed:1');
    expect(timer.body.lastOutcome).toMatchObject({ state: 'dead-lettered', target: 'mixed-mailer' });
  });

  test('a one-shot timer with rearm fires again after its event dead-letters, as many times as asked', {
    timeout: 60_000,
  }, async () => {
    const put = await admin('PUT', '/v1/timers/remind:order-2', {
      event: { type: 'com.shop.reminder', source: '/shop/reminders', data: { order: 'order-2' } },
      at: new Date().toISOString(),
      rearm: { after: '1s', times: 2 },
    });
    expect(put.status).toBe(201);
    expect(put.body.rearm).toEqual({ after: '1s', times: 2, done: 0 });
    // Three firings (the first and two re-arms), each dead-lettered, then the timer stays completed.
    const failures = () => alertsOf('dev.fuze.timer.failed').filter((e) => e.subject === 'remind:order-2');
    await waitFor(() => failures().length === 3, {
      timeoutMs: 45_000,
      message: 'three failed firings of remind:order-2',
    }).catch(async (err: unknown) => {
      // What the timer says, for the intermittent stall seen once in a fresh-clone run.
      const timer = (await admin('GET', '/v1/timers/remind:order-2')).body;
      console.error(
        `rearm stalled: ${failures().length} timer.failed events (generations ${failures()
          .map((e) => e.data.generation)
          .join(', ')}); timer: ${JSON.stringify(timer)}`,
      );
      throw err;
    });
    expect(failures().map((e) => e.data.generation)).toEqual([1, 2, 3]);
    await waitFor(async () => (await admin('GET', '/v1/timers/remind:order-2')).body.state === 'completed', {
      timeoutMs: 10_000,
      message: 'the timer completed',
    });
    const timer = (await admin('GET', '/v1/timers/remind:order-2')).body;
    expect(timer).toMatchObject({
      state: 'completed',
      generation: 3,
      fireCount: 3,
      rearm: { after: '1s', times: 2, done: 2 },
      lastOutcome: { state: 'dead-lettered', deadLetterId: failures()[2]!.data.deadLetterId },
    });
    expect(timer.nextFireAt).toBeNull();
  });

  test('rearm is refused on a recurring timer, naming the field', async () => {
    const put = await admin('PUT', '/v1/timers/every-minute', {
      event: { type: 'com.shop.reminder', source: '/shop/reminders' },
      rate: '1m',
      rearm: { after: '1s' },
    });
    expect(put).toMatchObject({ status: 400, body: { code: 'FUZE_INVALID_TIMER' } });
    expect(JSON.stringify(put.body)).toContain('body.rearm');
  });

  test('a finished dead-letter replay is announced with its counts', { timeout: 60_000 }, async () => {
    const replay = await admin('POST', '/v1/dlq/replay', { filter: { target: 'billing', state: 'dead' } });
    expect(replay.status).toBe(202);
    const jobId = replay.body.id as string;
    await waitFor(() => alertsOf('dev.fuze.replay.finished').some((e) => e.data.jobId === jobId), {
      timeoutMs: 45_000,
      message: 'dev.fuze.replay.finished at the alerts target',
    });
    const finished = alertsOf('dev.fuze.replay.finished').find((e) => e.data.jobId === jobId)!;
    expect(finished).toMatchObject({
      id: jobId,
      source: '/fuze/replays',
      data: { state: 'completed', total: 1, replayed: 1, failed: 0 },
    });
    expectValidData();
  });

  test('applications cannot publish to the system bus', async () => {
    const res = await fetch(`${fuze.gatewayUrl}/v1/buses/fuze/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'x',
        source: '/fuze/dead-letters',
        type: 'dev.fuze.timer.fired',
      }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'FUZE_RESERVED_BUS' });
  });
});
