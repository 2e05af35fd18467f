import { randomBytes } from 'node:crypto';
import { ensureTopology } from '@fuze/bus';
import { type CloudEventRecord, defaultRouting, loadConfig, type StreamNames } from '@fuze/core';
import { type Database, openDatabase, putTimer, type TimerWrite } from '@fuze/db';
import { createTestDatabase, startTestBus, type TestBus, type TestDatabase } from '@fuze/test/harness';
import { armTimer, parseTimerRequest, type TimerRequest } from '@fuze/timers';
import { type RunningScheduler, type SchedulerOptions, startScheduler } from '../src/index.js';

/** One nats-server per test file. */
export type BusFixture = TestBus;
export const startBus = startTestBus;

/** A fresh stream prefix with its streams, so each test counts only its own events. */
export async function freshStreams(bus: BusFixture): Promise<{ prefix: string; streams: StreamNames }> {
  const prefix = `T${randomBytes(4).toString('hex').toUpperCase()}`;
  const streams = await ensureTopology(
    bus.jsm,
    loadConfig({ FUZE_STREAM_PREFIX: prefix }).streams,
    bus.logger,
  );
  return { prefix, streams };
}

/** A fresh Postgres database (createTestDatabase) opened with the production driver. */
export async function openTestDatabase(): Promise<{
  database: Database;
  testDb: TestDatabase;
  close(): Promise<void>;
}> {
  const testDb = await createTestDatabase();
  const database = await openDatabase({ url: testDb.url });
  return {
    database,
    testDb,
    async close() {
      await database.close();
      await testDb.drop();
    },
  };
}

export function runScheduler(
  bus: BusFixture,
  database: Database,
  streams: { prefix: string; streams: StreamNames },
  overrides: Partial<SchedulerOptions> = {},
): Promise<RunningScheduler> {
  return startScheduler({
    database,
    publisher: bus.publisher,
    js: bus.js,
    jsm: bus.jsm,
    streamPrefix: streams.prefix,
    routing: defaultRouting,
    delayedStream: streams.streams.delayed,
    logger: bus.logger,
    ...overrides,
  });
}

/** Puts a timer the way the admin API does: validate, arm against the database clock, upsert. */
export function put(database: Database, key: string, request: TimerRequest) {
  const spec = parseTimerRequest(key, request);
  return putTimer(
    database.db,
    (nowMs): TimerWrite => ({
      ...armTimer(spec, nowMs),
      origin: 'api',
      state: 'scheduled',
    }),
  );
}

export interface StoredEvent {
  event: CloudEventRecord;
  subject: string;
  /** When JetStream stored it (server clock), epoch ms. */
  storedAtMs: number;
  msgId: string | undefined;
}

/** Every message in `stream`, in order, read with an ordered consumer. */
export async function readEvents(bus: BusFixture, stream: string): Promise<StoredEvent[]> {
  const { state } = await bus.jsm.streams.info(stream);
  if (state.messages === 0) return [];
  const consumer = await bus.js.consumers.get(stream);
  const out: StoredEvent[] = [];
  const messages = await consumer.consume({ max_messages: 1_000 });
  for await (const m of messages) {
    out.push({
      event: m.json<CloudEventRecord>(),
      subject: m.subject,
      storedAtMs: Math.floor(Number(m.info.timestampNanos) / 1e6),
      msgId: m.headers?.get('Nats-Msg-Id'),
    });
    if (m.info.pending === 0 && out.length >= state.messages) break;
  }
  await messages.close();
  return out;
}

/** Messages in `stream`, or only those on subjects matching `subjects` (e.g. one bus's events). */
export async function eventCount(bus: BusFixture, stream: string, subjects?: string): Promise<number> {
  if (subjects === undefined) return (await bus.jsm.streams.info(stream)).state.messages;
  const { state } = await bus.jsm.streams.info(stream, { subjects_filter: subjects });
  return Object.values(state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
}

export const timerEvent = { type: 'com.example.timer.fired', source: '/tests/scheduler' };
