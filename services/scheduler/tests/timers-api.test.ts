import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFuzeError } from '@fuze/core';
import { createTimersClient } from '@fuze/sdk';
import { type FuzeProcess, spawnFuze, waitFor } from '@fuze/test/harness';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type BusFixture,
  freshStreams,
  openTestDatabase,
  readEvents,
  startBus,
  timerEvent,
} from './fixture.js';

const token = 'timers-test-admin-token-0123456789';
let bus: BusFixture;
let db: Awaited<ReturnType<typeof openTestDatabase>>;
let fuze: FuzeProcess;
let adminUrl: string;
let eventsStream: string;
const dir = mkdtempSync(join(tmpdir(), 'fuze-timers-api-'));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

beforeAll(async () => {
  bus = await startBus();
  db = await openTestDatabase();
  const streams = await freshStreams(bus);
  eventsStream = streams.streams.events;
  const port = await freePort();
  adminUrl = `http://127.0.0.1:${port}`;
  fuze = spawnFuze(['serve', '--services', 'admin,scheduler'], {
    FUZE_NATS_URL: bus.nats.url,
    FUZE_DATABASE_URL: db.testDb.url,
    FUZE_STREAM_PREFIX: streams.prefix,
    FUZE_DATA_DIR: join(dir, 'data'),
    FUZE_ADMIN_PORT: String(port),
    FUZE_ADMIN_TOKEN: token,
    FUZE_GATEWAY_PORT: '0',
    FUZE_METRICS_PORT: '0',
  });
  await fuze.waitForLog('fuze is running', 60_000);
});
afterAll(async () => {
  fuze?.child.kill('SIGTERM');
  await fuze?.exited;
  await db?.close();
  await bus?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin API through the SDK client', () => {
  test('put creates then replaces (re-arms), get reads, list pages, cancel cancels', async () => {
    const timers = createTimersClient({ adminUrl, token });
    const first = await timers.put('cert-renew:example.com', {
      event: { ...timerEvent, data: { host: 'example.com' } },
      at: new Date('2030-01-01T09:00:00Z'),
    });
    expect(first.created).toBe(true);
    expect(first.timer).toMatchObject({
      key: 'cert-renew:example.com',
      bus: 'default',
      origin: 'api',
      state: 'scheduled',
      schedule: { kind: 'at', at: '2030-01-01T09:00:00.000Z' },
      misfire: 'fire-once',
      misfireGrace: '1m',
      nextFireAt: '2030-01-01T09:00:00.000Z',
      fireCount: 0,
      generation: 1,
    });
    const second = await timers.put('cert-renew:example.com', {
      event: timerEvent,
      cron: '0 9 * * MON-FRI',
      timezone: 'Europe/Paris',
      misfire: 'skip',
    });
    expect(second).toMatchObject({
      created: false,
      timer: { generation: 2, schedule: { kind: 'cron', cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris' } },
    });
    expect(await timers.get('cert-renew:example.com')).toMatchObject({ misfire: 'skip', generation: 2 });
    expect(await timers.get('nope')).toBeUndefined();

    for (const host of ['a.example', 'b.example', 'c.example']) {
      await timers.put(`renew:${host}`, { event: timerEvent, rate: '6h' });
    }
    const page1 = await timers.list({ prefix: 'renew:', limit: 2 });
    expect(page1.items.map((t) => t.key)).toEqual(['renew:a.example', 'renew:b.example']);
    const page2 = await timers.list({ prefix: 'renew:', limit: 2, cursor: page1.nextCursor! });
    expect(page2.items.map((t) => t.key)).toEqual(['renew:c.example']);
    expect(page2.nextCursor).toBeUndefined();
    const all: string[] = [];
    for await (const t of timers.listAll({ prefix: 'renew:', limit: 1 })) all.push(t.key);
    expect(all).toHaveLength(3);
    // Within the renew: timers only: the cron timer above (9:00 Paris, weekdays) is due within 7 h
    // too when the suite runs on a weekday night.
    const dueSoon = await timers.list({
      prefix: 'renew:',
      dueTo: new Date(Date.now() + 7 * 3_600_000),
      state: 'scheduled',
    });
    expect(dueSoon.items.map((t) => t.key)).toEqual([
      'renew:a.example',
      'renew:b.example',
      'renew:c.example',
    ]);

    expect(await timers.cancel('renew:b.example')).toBe(true);
    expect(await timers.get('renew:b.example')).toMatchObject({ state: 'cancelled', nextFireAt: null });
    expect(await timers.cancel('nope')).toBe(false);
    expect((await timers.list({ state: 'cancelled' })).items.map((t) => t.key)).toEqual(['renew:b.example']);
  });

  test('a timer fires into the bus and its record shows it ("time to event")', async () => {
    const timers = createTimersClient({ adminUrl, token });
    await timers.put('trial-end:user-42', { event: { ...timerEvent, subject: 'user/42' }, delay: '300ms' });
    const fired = await waitFor(async () => {
      const t = await timers.get('trial-end:user-42');
      return t?.state === 'completed' ? t : undefined;
    });
    expect(fired).toMatchObject({ fireCount: 1, nextFireAt: null, schedule: { kind: 'at', delay: '300ms' } });
    const events = await readEvents(bus, eventsStream);
    expect(events.map((e) => e.event.id)).toContain(`trial-end:user-42@${fired.lastDueAt}#1`);
  });

  test('fire now (SDK and HTTP): a cron timer fires at once and goes on with its schedule; only a scheduled timer can', async () => {
    const timers = createTimersClient({ adminUrl, token });
    await timers.put('report:weekly', { event: timerEvent, cron: '0 9 * * MON' });
    const due = await timers.fireNow('report:weekly'); // the SDK's call
    expect(due?.state).toBe('scheduled');
    expect(new Date(due!.nextFireAt!).getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    const fire = (key: string) =>
      fetch(`${adminUrl}/v1/timers/${encodeURIComponent(key)}/fire`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    const fired = await waitFor(async () => {
      const t = await timers.get('report:weekly');
      return t?.fireCount === 1 ? t : undefined;
    });
    expect(fired.state).toBe('scheduled');
    expect(new Date(fired.nextFireAt!).getUTCDay()).toBe(1); // back on Mondays
    expect(new Date(fired.nextFireAt!).getTime()).toBeGreaterThan(Date.now());
    const events = await readEvents(bus, eventsStream);
    expect(events.map((e) => e.event.id)).toContain(`report:weekly@${fired.lastDueAt}#1`);

    await timers.cancel('report:weekly');
    const refused = await fire('report:weekly');
    expect(refused.status).toBe(409);
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('FUZE_TIMER_NOT_SCHEDULED');
    expect(problem.detail).toContain('is cancelled, not scheduled');
    expect((await fire('no-such-timer')).status).toBe(404);
    expect(await timers.fireNow('no-such-timer')).toBeUndefined();
    await expect(timers.fireNow('report:weekly')).rejects.toMatchObject({ code: 'FUZE_TIMER_NOT_SCHEDULED' });
  });

  test('problems are problem+json naming the field; auth is required', async () => {
    const timers = createTimersClient({ adminUrl, token });
    const bad = await timers.put('bad', { event: timerEvent, cron: '0 9 * *' }).catch((e: unknown) => e);
    expect(isFuzeError(bad, 'FUZE_INVALID_TIMER')).toBe(true);
    expect(
      (bad as { details: { status: number; problems: Array<{ pointer: string }> } }).details,
    ).toMatchObject({
      status: 400,
      problems: [{ pointer: 'body.cron' }],
    });
    const raw = await fetch(`${adminUrl}/v1/timers/bad`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: { source: '/x' }, at: '2030-01-01T00:00:00Z' }),
    });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await raw.json()).toMatchObject({
      code: 'FUZE_INVALID_REQUEST',
      errors: [{ pointer: 'body.event.type' }],
    });
    const notFound = await fetch(`${adminUrl}/v1/timers/nope`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ code: 'FUZE_TIMER_NOT_FOUND' });
    const anonymous = await createTimersClient({ adminUrl, token: '' })
      .list()
      .catch((e: unknown) => e);
    expect(isFuzeError(anonymous, 'FUZE_UNAUTHORIZED')).toBe(true);
  });

  test('putMany writes 1,000 per request, all or none each, and reports every problem at once', async () => {
    const timers = createTimersClient({ adminUrl, token });
    const many = Array.from({ length: 2_300 }, (_, i) => ({
      key: `batch:${String(i).padStart(5, '0')}`,
      event: { ...timerEvent, data: { i } },
      at: new Date(Date.UTC(2031, 0, 1) + i * 60_000),
    }));
    const outcomes = await timers.putMany(many);
    expect(outcomes.map((o) => o.key)).toEqual(many.map((t) => t.key));
    expect(outcomes.every((o) => o.created && o.state === 'scheduled' && o.generation === 1)).toBe(true);
    expect(outcomes[42]!.nextFireAt).toBe(new Date(Date.UTC(2031, 0, 1) + 42 * 60_000).toISOString());
    let listed = 0;
    for await (const _ of timers.listAll({ prefix: 'batch:' })) listed++;
    expect(listed).toBe(2_300);

    // Again, with a change: replaced and re-armed, in the order given.
    const again = await timers.putMany(many.slice(0, 3).map((t) => ({ ...t, rate: '6h', at: undefined })));
    expect(again.map((o) => [o.created, o.generation])).toEqual([
      [false, 2],
      [false, 2],
      [false, 2],
    ]);
    expect((await timers.get('batch:00001'))?.schedule).toEqual({ kind: 'rate', rate: '6h' });

    // One bad entry refuses its batch; every problem is named by index and field.
    const bad = await timers
      .putMany([
        { key: 'batch-bad:ok', event: timerEvent, delay: '1h' },
        { key: 'batch-bad:ok', event: timerEvent, delay: '2h' },
        { key: 'batch-bad:cron', event: timerEvent, cron: '0 9 * *' },
        { key: 'bad key!', event: timerEvent, rate: '6h' },
      ])
      .catch((e: unknown) => e);
    expect(isFuzeError(bad, 'FUZE_INVALID_TIMER')).toBe(true);
    const pointers = (bad as { details: { problems: Array<{ pointer: string }> } }).details.problems.map(
      (p) => p.pointer,
    );
    expect(pointers).toEqual(['timers.1.key', 'timers.2.cron', 'timers.3.key']);
    expect(await timers.get('batch-bad:ok')).toBeUndefined();

    // The API's own limit, for callers without the SDK.
    const tooMany = await fetch(`${adminUrl}/v1/timers`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ timers: many.slice(0, 1_001) }),
    });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ code: 'FUZE_INVALID_REQUEST' });
  });

  test('a batch of timers due soon fires each one into the bus', async () => {
    const timers = createTimersClient({ adminUrl, token });
    const keys = Array.from({ length: 20 }, (_, i) => `batch-soon:${i}`);
    await timers.putMany(
      keys.map((key) => ({ key, event: { ...timerEvent, subject: key }, delay: '300ms' })),
    );
    await waitFor(async () => {
      const states = await Promise.all(keys.map(async (key) => (await timers.get(key))?.state));
      return states.every((state) => state === 'completed') || undefined;
    });
    const subjects = (await readEvents(bus, eventsStream)).map((e) => e.event.subject);
    for (const key of keys) expect(subjects).toContain(key);
  });

  test('OpenAPI documents the timer routes', async () => {
    const doc = (await (await fetch(`${adminUrl}/docs/json`)).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/timers', '/v1/timers/{key}']));
    expect(Object.keys(doc.paths['/v1/timers/{key}']!)).toEqual(
      expect.arrayContaining(['put', 'get', 'delete']),
    );
    expect(Object.keys(doc.paths['/v1/timers/{key}/fire']!)).toEqual(['post']);
    expect(Object.keys(doc.paths['/v1/timers']!)).toEqual(expect.arrayContaining(['put', 'get']));
  });
});

describe('fuze timers (CLI)', () => {
  const env = () => ({ FUZE_ADMIN_URL: adminUrl, FUZE_ADMIN_TOKEN: token });
  const run = async (args: string[]) => {
    const p = spawnFuze(['timers', ...args], env());
    const code = await p.exited;
    return { code, output: p.output() };
  };

  test('put, get, list, delete; errors are one clear line and exit 1', async () => {
    const eventFile = join(dir, 'event.yaml');
    writeFileSync(eventFile, 'type: com.example.report.due\nsource: /cli\ndata:\n  report: weekly\n');
    const put = await run([
      'put',
      'cli:weekly',
      '--cron',
      '0 8 * * MON',
      '--tz',
      'Europe/Paris',
      '--event',
      eventFile,
    ]);
    expect(put.code).toBe(0);
    expect(put.output).toMatch(/created timer cli:weekly/);
    expect(put.output).toMatch(/"timezone": "Europe\/Paris"/);

    const get = await run(['get', 'cli:weekly']);
    expect(get.code).toBe(0);
    expect(get.output).toMatch(/"report": "weekly"/);

    const list = await run(['list', '--prefix', 'cli:', '--all']);
    expect(list.code).toBe(0);
    expect(list.output).toMatch(/"key": "cli:weekly"/);

    expect((await run(['delete', 'cli:weekly'])).code).toBe(0);
    expect((await run(['get', 'cli:weekly'])).output).toMatch(/"state": "cancelled"/);

    const missing = await run(['get', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/fuze: no timer has the key "nope" \(FUZE_TIMER_NOT_FOUND, HTTP 404\)/);

    const invalid = await run(['put', 'cli:bad', '--cron', 'every day', '--event', eventFile]);
    expect(invalid.code).toBe(1);
    expect(invalid.output).toMatch(/FUZE_INVALID_TIMER, HTTP 400/);
    expect(invalid.output).toMatch(/body\.cron/);

    const noTiming = await run(['put', 'cli:bad', '--event', eventFile]);
    expect(noTiming.code).toBe(1);
    expect(noTiming.output).toMatch(/exactly one of --at, --delay, --cron or --rate/);

    const listFile = join(dir, 'timers.yaml');
    writeFileSync(
      listFile,
      '- key: cli-many:a\n  event: { type: com.example.x, source: /cli }\n  rate: 6h\n' +
        '- key: cli-many:b\n  event: { type: com.example.x, source: /cli }\n  at: 2031-01-01T00:00:00Z\n',
    );
    const many = await run(['put-many', '--file', listFile]);
    expect(many.code).toBe(0);
    expect(many.output).toMatch(/created 2 timer\(s\), replaced 0/);
    expect((await run(['get', 'cli-many:b'])).output).toMatch(/"nextFireAt": "2031-01-01T00:00:00.000Z"/);
    writeFileSync(listFile, '- key: cli-many:c\n  event: { type: com.example.x, source: /cli }\n');
    const manyBad = await run(['put-many', '--file', listFile]);
    expect(manyBad.code).toBe(1);
    expect(manyBad.output).toMatch(/timers\.0: a timer needs exactly one of at, delay, cron or rate/);

    const help = await run(['put', '--help']);
    expect(help.code).toBe(0);
    expect(help.output).toMatch(/--admin-url/);
  });
});
