import { JetStreamPublisher } from '@fuze/bus';
import { dlqSubject, streamNames } from '@fuze/core';
import {
  createTestDatabase,
  type InProcessFuze,
  type NatsServerHandle,
  readStream,
  runFuzeCli,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { adminModule } from '../src/index.js';
import { deadLetterRecord } from './dlq-fixture.js';

const prefix = 'DLQCLI';
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;

const records = Array.from({ length: 12 }, (_, i) =>
  deadLetterRecord({
    eventId: `cli-${i}`,
    target: i < 10 ? 'billing' : 'crm',
    key: `k-${i % 3}`,
    acceptedAt: 1_900_000_000_000 + i,
    message: i < 10 ? 'the target answered 503' : 'connection refused',
    errorClass: i < 10 ? 'HttpStatusError' : 'ConnectionError',
  }),
);

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase();
  fuze = await startInProcessFuze({
    modules: [adminModule],
    natsUrl: nats.url,
    env: { FUZE_DATABASE_URL: db.url, FUZE_STREAM_PREFIX: prefix },
  });
  nc = await connect({ servers: nats.url });
  const publisher = new JetStreamPublisher(nc);
  for (const r of records) {
    await publisher.publish({
      subject: dlqSubject(prefix, r.target),
      payload: new TextEncoder().encode(JSON.stringify(r)),
      msgId: r.id,
    });
  }
  await publisher.close();
  await waitFor(async () => (await api('/v1/dlq?limit=1000')).items.length === records.length, {
    message: 'the DLQ to be indexed',
  });
});

afterAll(async () => {
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
});

async function api(path: string): Promise<{ items: Array<{ id: string }> }> {
  return (await fetch(`${fuze.adminUrl}${path}`)).json() as Promise<{ items: Array<{ id: string }> }>;
}

function cli(args: string[]) {
  return runFuzeCli(args, { FUZE_ADMIN_URL: fuze.adminUrl });
}

test('every dlq command has --help listing its flags', { timeout: 120_000 }, async () => {
  for (const command of ['list', 'show', 'replay', 'purge', 'cancel']) {
    const help = await cli(['dlq', command, '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain(`Usage: fuze dlq ${command}`);
  }
  const replay = await cli(['dlq', 'replay', '--help']);
  for (const flag of [
    '--target',
    '--error',
    '--from',
    '--state',
    '--dry-run',
    '--to-target',
    '--rate',
    '--force',
    '--detach',
  ]) {
    expect(replay.stdout).toContain(flag);
  }
});

test('fuze dlq list and show', { timeout: 120_000 }, async () => {
  const table = await cli(['dlq', 'list', '--target', 'crm']);
  expect(table.code).toBe(0);
  const lines = table.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^ID\s+DEAD-LETTERED\s+STATE\s+TARGET/);
  expect(
    lines
      .slice(1)
      .map((l) => l.split(/\s+/)[0])
      .sort(),
  ).toEqual([records[10]!.id, records[11]!.id].sort());

  const json = await cli(['dlq', 'list', '--error', 'REFUSED', '--json']);
  expect(
    JSON.parse(json.stdout)
      .items.map((i: { eventId: string }) => i.eventId)
      .sort(),
  ).toEqual(['cli-10', 'cli-11']);

  const paged = await cli(['dlq', 'list', '--limit', '5', '--all', '--json']);
  expect(JSON.parse(paged.stdout).items).toHaveLength(12);

  const shown = await cli(['dlq', 'show', records[3]!.id]);
  expect(shown.code).toBe(0);
  expect(JSON.parse(shown.stdout)).toMatchObject({
    id: records[3]!.id,
    record: records[3],
    body: { encoding: 'json' },
  });

  const missing = await cli(['dlq', 'show', 'nope']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('FUZE_DEAD_LETTER_NOT_FOUND');
});

test('fuze dlq replay: dry run, progress while waiting, refused the second time, --detach', {
  timeout: 120_000,
}, async () => {
  const dry = await cli(['dlq', 'replay', '--target', 'billing', '--dry-run']);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('would replay 10 dead letters');

  const nothing = await cli(['dlq', 'replay']);
  expect(nothing.code).toBe(1);
  expect(nothing.stderr).toContain('--all');

  const replay = await cli(['dlq', 'replay', '--target', 'billing']);
  expect(replay.code).toBe(0);
  expect(replay.stdout).toMatch(/replay job \S+ completed: 10 replayed, 0 failed/);
  // Not a terminal: one progress line per 10% reached, ending at 100%.
  const progress = replay.stderr.split('\n').filter((l) => l.startsWith('['));
  expect(progress.at(-1)).toMatch(/^\[#+\] 100% 10\/10$/);
  const delivered = await readStream(nc, streamNames(prefix).delivery);
  expect(delivered).toHaveLength(10);

  const again = await cli(['dlq', 'replay', '--target', 'billing']);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('FUZE_ALREADY_REPLAYED');

  const detached = await cli(['dlq', 'replay', records[10]!.id, '--detach']);
  expect(detached.code).toBe(0);
  const jobId = detached.stdout.trim();
  await waitFor(async () => {
    const job = (await (await fetch(`${fuze.adminUrl}/v1/replays/${jobId}`)).json()) as { state: string };
    return job.state === 'completed';
  });
  const cancel = await cli(['dlq', 'cancel', jobId]);
  expect(cancel.code).toBe(1);
  expect(cancel.stderr).toContain('FUZE_REPLAY_JOB_FINISHED');
});

test('fuze dlq purge needs a filter, then purges and reports the count', { timeout: 120_000 }, async () => {
  const refused = await cli(['dlq', 'purge']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('--all');
  const purge = await cli(['dlq', 'purge', '--target', 'crm', '--state', 'dead']);
  expect(purge.code).toBe(0);
  expect(purge.stdout).toMatch(/^purged 1 dead letter \(audit record \d+\)/);
  const left = await cli(['dlq', 'list', '--target', 'crm', '--json']);
  expect(JSON.parse(left.stdout).items.map((i: { state: string }) => i.state)).toEqual(['replayed']);
});
