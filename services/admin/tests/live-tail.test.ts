import { spawn } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { type CloudEventRecord, readServerSentEvents, type ServerSentEvent } from '@fuze/core';
import { gatewayModule } from '@fuze/gateway';
import { metricsRegistry } from '@fuze/telemetry';
import {
  fuzeBinary,
  type InProcessFuze,
  type NatsServerHandle,
  startInProcessFuze,
  startNatsServer,
  waitFor,
} from '@fuze/test/harness';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminModule } from '../src/index.js';

// The live tail against a real gateway, admin API and NATS: what a client sees, resuming, and a
// stalled client dropped while another keeps up.
const token = 'tail-test-admin-token-0123456789';
let nats: NatsServerHandle;
let fuze: InProcessFuze;

beforeAll(async () => {
  nats = await startNatsServer();
  fuze = await startInProcessFuze({
    modules: [gatewayModule, adminModule],
    natsUrl: nats.url,
    env: {
      FUZE_STREAM_PREFIX: 'TAIL',
      FUZE_ADMIN_TOKEN: token,
      FUZE_LOG_LEVEL: process.env.TAIL_LOG ?? 'error',
    },
  });
}, 120_000);

afterAll(async () => {
  await fuze?.stop();
  await nats?.[Symbol.asyncDispose]();
});

const auth = { authorization: `Bearer ${token}` };

async function publish(bus: string, events: Array<Partial<CloudEventRecord>>): Promise<void> {
  const res = await fetch(`${fuze.gatewayUrl}/v1/buses/${bus}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', ...auth },
    body: JSON.stringify(events.map((e) => ({ specversion: '1.0', source: '/tests/tail', ...e }))),
  });
  expect(res.status, await res.clone().text()).toBe(202);
}

/** An SSE client over fetch: events as they arrive, until `stop()`. */
function tail(query: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const events: ServerSentEvent[] = [];
  const opened = fetch(`${fuze.adminUrl}/v1/tail?${query}`, {
    headers: { ...auth, ...headers },
    signal: abort.signal,
  });
  const reading = opened.then(async (res) => {
    if (res.status !== 200) return;
    try {
      for await (const event of readServerSentEvents(res.body!)) events.push(event);
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  });
  return {
    opened,
    events,
    data: () =>
      events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data) as CloudEventRecord),
    async stop() {
      abort.abort();
      await reading.catch(() => {});
    },
  };
}

async function problem(query: string, headers: Record<string, string> = auth) {
  const res = await fetch(`${fuze.adminUrl}/v1/tail?${query}`, { headers });
  return { status: res.status, body: (await res.json()) as { code: string; detail: string } };
}

describe('GET /v1/tail', () => {
  test('streams the matching events of one bus from now, each with its stream sequence as id', {
    timeout: 30_000,
  }, async () => {
    await publish('orders', [{ id: 'before', type: 'com.shop.order.placed' }]);
    const pattern = encodeURIComponent(JSON.stringify({ type: ['com.shop.order.placed'] }));
    const client = tail(`bus=orders&pattern=${pattern}`);
    const res = await client.opened;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await publish('orders', [
      { id: 'o-1', type: 'com.shop.order.placed', data: { n: 1 } },
      { id: 'c-1', type: 'com.shop.order.cancelled' },
      { id: 'o-2', type: 'com.shop.order.placed', data: { note: 'two\nlines' } },
    ]);
    await publish('other', [{ id: 'x-1', type: 'com.shop.order.placed' }]);
    await waitFor(() => client.data().length >= 2, { timeoutMs: 10_000, message: 'two events at the tail' });
    await publish('orders', [{ id: 'o-3', type: 'com.shop.order.placed' }]);
    await waitFor(() => client.data().length >= 3, { timeoutMs: 10_000, message: 'the third event' });
    await client.stop();
    expect(client.data().map((e) => e.id)).toEqual(['o-1', 'o-2', 'o-3']);
    expect(client.data()[1]!.data).toEqual({ note: 'two\nlines' });
    const ids = client.events.map((e) => Number(e.lastEventId));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });

  test('resumes after Last-Event-ID with nothing missed or repeated; since reads the past', {
    timeout: 30_000,
  }, async () => {
    const first = tail('bus=resume');
    await first.opened;
    await publish('resume', [{ id: 'r-1', type: 't' }]);
    await waitFor(() => first.data().length === 1, { timeoutMs: 10_000, message: 'r-1' });
    await first.stop();
    const lastId = first.events.at(-1)!.lastEventId!;
    await publish('resume', [
      { id: 'r-2', type: 't' },
      { id: 'r-3', type: 't' },
    ]);
    const resumed = tail('bus=resume', { 'last-event-id': lastId });
    await waitFor(() => resumed.data().length >= 2, { timeoutMs: 10_000, message: 'the missed events' });
    await resumed.stop();
    expect(resumed.data().map((e) => e.id)).toEqual(['r-2', 'r-3']);

    const past = tail('bus=resume&since=1h');
    await waitFor(() => past.data().length >= 3, { timeoutMs: 10_000, message: 'the bus history' });
    await past.stop();
    expect(past.data().map((e) => e.id)).toEqual(['r-1', 'r-2', 'r-3']);
  });

  test('a stalled client is dropped; a client that reads keeps every event', {
    timeout: 90_000,
  }, async () => {
    const reader = tail('bus=flood');
    await reader.opened;
    // A client that never reads: its socket and the server's buffer fill up.
    const stalled = await new Promise<IncomingMessage>((resolve, reject) => {
      const url = new URL(`${fuze.adminUrl}/v1/tail?bus=flood`);
      const req = httpRequest(url, { headers: auth }, resolve);
      req.on('error', reject);
      req.end();
    });
    stalled.pause();
    const total = 6_000;
    const payload = 'x'.repeat(2_000);
    for (let i = 0; i < total; i += 100) {
      await publish(
        'flood',
        Array.from({ length: 100 }, (_, j) => ({ id: `f-${i + j}`, type: 'flood', data: { payload } })),
      );
    }
    await waitFor(() => reader.data().length === total, {
      timeoutMs: 60_000,
      message: 'every event at the reading client',
    });
    // Now read what the stalled client was sent: it ends with `dropped`, well before the end.
    stalled.resume();
    const seen: ServerSentEvent[] = [];
    for await (const event of readServerSentEvents(stalled)) seen.push(event);
    const dropped = seen.at(-1)!;
    expect(dropped.event).toBe('dropped');
    const messages = seen.filter((e) => e.event === 'message');
    expect(messages.length).toBeLessThan(total);
    expect(JSON.parse(dropped.data)).toMatchObject({ lastEventId: Number(messages.at(-1)!.lastEventId) });
    await reader.stop();
    expect(new Set(reader.data().map((e) => e.id)).size).toBe(total);
    // The services run in this process: its registry is the one /metrics serves.
    expect(await metricsRegistry.getSingleMetricAsString('fuze_tail_dropped_total')).toMatch(
      /fuze_tail_dropped_total [1-9]/,
    );
  });

  test('fuze tail prints one event a line, and carries on across a NATS restart', {
    timeout: 120_000,
  }, async () => {
    const child = spawn(process.execPath, [fuzeBinary(), 'tail', '--bus', 'cli', '--max-events', '4'], {
      env: { PATH: process.env.PATH ?? '', FUZE_ADMIN_URL: fuze.adminUrl, FUZE_ADMIN_TOKEN: token },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await waitFor(() => stderr.includes('tailing bus cli'), {
      timeoutMs: 30_000,
      message: 'fuze tail connected',
    });
    await publish('cli', [
      { id: 'cli-1', type: 't' },
      { id: 'cli-2', type: 't' },
    ]);
    await waitFor(() => stdout.split('\n').length > 2, { timeoutMs: 10_000, message: 'two lines printed' });
    await nats.restart();
    // The gateway answers 503 until it is reconnected: publish until it stores the events.
    await waitFor(
      async () => {
        const res = await fetch(`${fuze.gatewayUrl}/v1/buses/cli/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents-batch+json', ...auth },
          body: JSON.stringify(
            ['cli-3', 'cli-4'].map((id) => ({ specversion: '1.0', source: '/tests/tail', id, type: 't' })),
          ),
        });
        return res.status === 202; // 207: some entries were not stored
      },
      { timeoutMs: 60_000, message: 'the gateway to store events after the restart' },
    );
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 60_000));
    expect(await Promise.race([exited, timeout]), `stderr: ${stderr}`).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as CloudEventRecord);
    expect(lines.map((e) => e.id)).toEqual(['cli-1', 'cli-2', 'cli-3', 'cli-4']);
  });

  test('stopping the admin service ends open tails instead of waiting for them', {
    timeout: 60_000,
  }, async () => {
    const second = await startInProcessFuze({
      modules: [adminModule],
      natsUrl: nats.url,
      env: { FUZE_STREAM_PREFIX: 'TAIL', FUZE_LOG_LEVEL: 'error' },
    });
    const res = await fetch(`${second.adminUrl}/v1/tail?bus=orders`);
    expect(res.status).toBe(200);
    const ended = (async () => {
      for await (const _ of readServerSentEvents(res.body!)) {
        // reading until the server ends the stream
      }
    })();
    await second.stop();
    await ended; // the stream ended: the client saw the server close it
  });

  test('bad input is a 4xx problem naming it; the scope is events:read', async () => {
    expect(await problem('bus=orders&pattern=%7Bnot-json')).toMatchObject({
      status: 400,
      body: { code: 'FUZE_INVALID_REQUEST', detail: expect.stringContaining('query.pattern') },
    });
    expect(
      await problem(`bus=orders&pattern=${encodeURIComponent('{"type":"not-an-array"}')}`),
    ).toMatchObject({
      status: 400,
      body: { code: 'FUZE_INVALID_PATTERN' },
    });
    expect(await problem('bus=Orders!')).toMatchObject({
      status: 400,
      body: { code: 'FUZE_INVALID_REQUEST' },
    });
    expect(await problem('bus=orders&since=yesterday')).toMatchObject({
      status: 400,
      body: { detail: expect.stringContaining('query.since') },
    });
    expect(await problem('bus=orders', { ...auth, 'last-event-id': 'abc' })).toMatchObject({
      status: 400,
      body: { detail: expect.stringContaining('last-event-id') },
    });
    expect(await problem('bus=orders', {})).toMatchObject({
      status: 401,
      body: { code: 'FUZE_UNAUTHORIZED' },
    });
    const key = await fetch(`${fuze.adminUrl}/v1/keys`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'publisher', scopes: ['events:publish'] }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    expect(await problem('bus=orders', { authorization: `Bearer ${key.token}` })).toMatchObject({
      status: 403,
      body: { code: 'FUZE_FORBIDDEN' },
    });
  });
});
