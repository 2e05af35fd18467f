import { JetStreamPublisher } from '@fuze/bus';
import { createProcessor, type Processor } from '@fuze/sdk';
import {
  createTestDatabase,
  deliveryEnvelope,
  type InProcessFuze,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  runFuzeCli,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { adminModule } from '../src/index.js';

// Operators' view of processor state: the admin API and `fuze state` against the state a real
// processor committed.
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;
let prefix: string;
let processor: Processor<{ total: number }>;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  prefix = await provisionStreams(nc, 'STA');
  db = await createTestDatabase();
  fuze = await startInProcessFuze({
    modules: [adminModule],
    natsUrl: nats.url,
    env: { FUZE_DATABASE_URL: db.url, FUZE_STREAM_PREFIX: prefix },
  });
  processor = createProcessor<{ total: number }>({
    target: 'totals',
    natsUrl: nats.url,
    streamPrefix: prefix,
    partitions: 4,
  });
  const handled: string[] = [];
  await processor.handle<{ key: string; n: number }>((event, ctx) => {
    ctx.state.set({ total: (ctx.state.get()?.total ?? 0) + event.data!.n });
    handled.push(String(event.id));
  });
  const publisher = new JetStreamPublisher(nc);
  const keys = ['acme/eu', 'globex', 'initech'];
  await publishDeliveries(
    publisher,
    prefix,
    4,
    keys.flatMap((key) => [1, 2, 3].map((n) => deliveryEnvelope({ target: 'totals', key, n }))),
  );
  await publisher.close();
  await waitFor(() => handled.length === 9, { message: 'nine events handled' });
});

afterAll(async () => {
  await processor?.close();
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
});

function cli(args: string[]) {
  return runFuzeCli(args, { FUZE_ADMIN_URL: fuze.adminUrl });
}

test('GET, list and DELETE a key through the admin API', async () => {
  const one = await fetch(`${fuze.adminUrl}/v1/processors/totals/state/${encodeURIComponent('acme/eu')}`);
  expect(one.status).toBe(200);
  expect(await one.json()).toMatchObject({ key: 'acme/eu', state: { total: 6 }, bytes: 11 });

  const page = (await (await fetch(`${fuze.adminUrl}/v1/processors/totals/state?limit=2`)).json()) as {
    items: Array<{ key: string }>;
    nextCursor: string;
  };
  expect(page.items.map((i: { key: string }) => i.key)).toEqual(['acme/eu', 'globex']);
  const rest = await (
    await fetch(`${fuze.adminUrl}/v1/processors/totals/state?cursor=${page.nextCursor}`)
  ).json();
  expect(rest).toEqual({ items: [expect.objectContaining({ key: 'initech' })] });

  const missing = await fetch(`${fuze.adminUrl}/v1/processors/totals/state/nobody`);
  expect(missing.status).toBe(404);
  expect(await missing.json()).toMatchObject({ code: 'FUZE_NOT_FOUND' });
  const noProcessor = await fetch(`${fuze.adminUrl}/v1/processors/ghost/state/x`);
  expect(noProcessor.status).toBe(404);
  expect(((await noProcessor.json()) as { detail: string }).detail).toContain(
    'no state is kept for processor "ghost"',
  );

  expect(
    (await fetch(`${fuze.adminUrl}/v1/processors/totals/state/globex`, { method: 'DELETE' })).status,
  ).toBe(204);
  expect((await fetch(`${fuze.adminUrl}/v1/processors/totals/state/globex`)).status).toBe(404);
});

test('fuze state get, list and delete; the processor takes a deleted key from empty', {
  timeout: 120_000,
}, async () => {
  const got = await cli(['state', 'get', '--processor', 'totals', '--key', 'initech']);
  expect(got.code, got.stderr).toBe(0);
  expect(JSON.parse(got.stdout)).toMatchObject({ key: 'initech', state: { total: 6 } });

  const listed = await cli(['state', 'list', '--processor', 'totals', '--limit', '1', '--all']);
  expect(JSON.parse(listed.stdout).items.map((i: { key: string }) => i.key)).toEqual(['acme/eu', 'initech']);

  const deleted = await cli(['state', 'delete', '--processor', 'totals', '--key', 'initech']);
  expect(deleted.code, deleted.stderr).toBe(0);
  const gone = await cli(['state', 'get', '--processor', 'totals', '--key', 'initech']);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toContain('FUZE_NOT_FOUND');

  // The processor still holds the key in memory: its next commit finds the deletion and the
  // event is handled again on an empty state.
  const publisher = new JetStreamPublisher(nc);
  await publishDeliveries(publisher, prefix, 4, [
    deliveryEnvelope({ target: 'totals', key: 'initech', n: 10 }),
  ]);
  await publisher.close();
  await waitFor(async () => {
    const answer = await fetch(`${fuze.adminUrl}/v1/processors/totals/state/initech`);
    return (
      answer.status === 200 && ((await answer.json()) as { state: { total: number } }).state.total === 10
    );
  });

  const help = await cli(['state', '--help']);
  expect(help.stdout).toContain('fuze state get --processor averages --key AAPL');
});
