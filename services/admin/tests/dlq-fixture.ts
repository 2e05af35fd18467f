import { randomBytes } from 'node:crypto';
import { ensureTopology } from '@fuze/bus';
import {
  type Clock,
  type DeadLetterRecord,
  type DeliveryEnvelope,
  deadLetterId,
  decodeDeliveryMessage,
  defaultRouting,
  dlqSubject,
  loadConfig,
  type StreamNames,
} from '@fuze/core';
import { type Database, getDeadLetter, openDatabase, tables } from '@fuze/db';
import { createTokenAuthenticator } from '@fuze/http';
import {
  createTestDatabase,
  readStream,
  startTestBus,
  type TestBus,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { count, ne } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import {
  dlqIndexerName,
  type RunningDlqIndexer,
  type RunningReplayWorker,
  startDlqIndexer,
  startReplayWorker,
} from '../src/dlq/index.js';
import { applyRuleFiles, buildAdminApp } from '../src/index.js';

/** One nats-server per test file. */
export type DlqBus = TestBus;
export const startDlqBus = startTestBus;

/** A fresh prefix (its own streams) and a fresh database; the admin app; the indexer and worker. */
export interface DlqFixture {
  bus: DlqBus;
  prefix: string;
  streams: StreamNames;
  database: Database;
  app: FastifyInstance;
  indexer: RunningDlqIndexer | undefined;
  worker: RunningReplayWorker | undefined;
  /** Publishes a record to the DLQ stream (as the router and dispatcher do). */
  deadLetter(record: DeadLetterRecord): Promise<void>;
  /** Waits until the index holds `n` entries (purged included). */
  indexed(n: number): Promise<void>;
  startWorker(options?: { clock?: Clock; leaseMs?: number }): Promise<RunningReplayWorker>;
  applyRules(yaml: string): Promise<void>;
  /** The DELIVERY stream, decoded. */
  deliveries(): Promise<Array<{ seq: number; subject: string; msgId: string; envelope: DeliveryEnvelope }>>;
  /** JSON request through `inject`. */
  call<T = Record<string, unknown>>(
    method: string,
    url: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export async function startDlqFixture(
  bus: DlqBus,
  options: { worker?: boolean; database?: { url: string } | 'pglite' } = {},
): Promise<DlqFixture> {
  const prefix = `D${randomBytes(4).toString('hex').toUpperCase()}`;
  const streams = await ensureTopology(
    bus.jsm,
    loadConfig({ FUZE_STREAM_PREFIX: prefix }).streams,
    bus.logger,
  );
  let testDb: TestDatabase | undefined;
  let url = options.database === 'pglite' ? undefined : options.database?.url;
  if (!url && options.database !== 'pglite') {
    testDb = await createTestDatabase();
    url = testDb.url;
  }
  // No URL: embedded PGlite in memory, the laptop default.
  const database = await openDatabase({ url });
  const app = buildAdminApp({
    logger: bus.logger,
    db: database.db,
    nats: bus.nc,
    jsm: bus.jsm,
    js: bus.js,
    prefix,
    authenticator: createTokenAuthenticator({ adminToken: undefined }),
    readiness: async () => ({ nats: true, postgres: true }),
  });
  await app.ready();
  const indexer = await startDlqIndexer({
    db: database.db,
    js: bus.js,
    jsm: bus.jsm,
    dlqStream: streams.dlq,
    consumerName: dlqIndexerName(prefix),
    logger: bus.logger,
    maxRetryDelayMs: 500,
  });
  const workers: RunningReplayWorker[] = [];
  const startWorker = async (o: { clock?: Clock; leaseMs?: number } = {}) => {
    const worker = await startReplayWorker({
      database,
      jsm: bus.jsm,
      publisher: bus.publisher,
      prefix,
      routing: defaultRouting,
      dlqStream: streams.dlq,
      archive: {
        js: bus.js,
        jsm: bus.jsm,
        eventsStream: streams.events,
        maxPayloadBytes: () => bus.nc.info?.max_payload ?? 1024 * 1024,
        logger: bus.logger,
      },
      logger: bus.logger,
      pollMs: 200,
      ...o,
    });
    workers.push(worker);
    return worker;
  };
  const worker = options.worker === false ? undefined : await startWorker();
  const encoder = new TextEncoder();
  return {
    bus,
    prefix,
    streams,
    database,
    app,
    indexer,
    worker,
    startWorker,
    async deadLetter(record) {
      await bus.publisher.publish({
        subject: dlqSubject(prefix, record.target),
        payload: encoder.encode(JSON.stringify(record)),
        msgId: record.id,
      });
    },
    async indexed(n) {
      await waitFor(
        async () => {
          const [row] = await database.db.select({ n: count() }).from(tables.deadLetters);
          return Number(row?.n) === n;
        },
        { message: `${n} indexed dead letters`, timeoutMs: 20_000 },
      );
    },
    async applyRules(yaml) {
      await applyRuleFiles({ db: database.db, nats: bus.nc, prefix }, [
        { path: 'rules.yaml', content: yaml },
      ]);
    },
    async deliveries() {
      const messages = await readStream(bus.nc, streams.delivery);
      return messages.map((m) => ({
        seq: m.seq,
        subject: m.subject,
        msgId: m.headers['Nats-Msg-Id'] ?? '',
        envelope: decodeDeliveryMessage(
          { get: (name) => m.headers[name] ?? '', keys: () => Object.keys(m.headers) },
          m.data,
        ),
      }));
    },
    async call<T>(method: string, url: string, body?: unknown) {
      const response = await app.inject({
        method: method as 'GET',
        url,
        ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
      });
      return { status: response.statusCode, body: (response.body ? response.json() : undefined) as T };
    },
    async close() {
      for (const w of workers) await w.stop();
      await indexer.stop();
      await app.close();
      await database.close();
      await testDb?.drop();
    },
  };
}

/** Counts live (not purged) entries: for tests that wait on state changes. */
export async function liveEntries(database: Database): Promise<number> {
  const [row] = await database.db
    .select({ n: count() })
    .from(tables.deadLetters)
    .where(ne(tables.deadLetters.state, 'purged'));
  return Number(row?.n);
}

export async function entryState(database: Database, id: string): Promise<string | undefined> {
  return (await getDeadLetter(database.db, id))?.state;
}

export interface RecordSpec {
  eventId: string;
  target?: string;
  rule?: string;
  bus?: string;
  type?: string;
  source?: string;
  subject?: string;
  key?: string;
  stage?: 'plan' | 'route' | 'deliver';
  errorClass?: string;
  message?: string;
  httpStatus?: number;
  attempts?: number;
  /** Epoch ms the bus accepted the event (default: now). */
  acceptedAt?: number;
  eventSeq?: number;
  deadLetteredAt?: string;
  data?: unknown;
  traceparent?: string;
}

/**
 * A dead-letter record as the dispatcher writes it (stage `deliver`, body = the structured
 * CloudEvent), or as the router does (stage `route`, body = the original event).
 */
export function deadLetterRecord(spec: RecordSpec): DeadLetterRecord {
  const target = spec.target ?? 'billing';
  const rule = spec.rule ?? 'orders';
  const source = spec.source ?? 'urn:shop';
  const event = {
    specversion: '1.0',
    id: spec.eventId,
    source,
    type: spec.type ?? 'com.shop.order.placed',
    ...(spec.subject === undefined ? {} : { subject: spec.subject }),
    ...(spec.traceparent === undefined ? {} : { traceparent: spec.traceparent }),
    datacontenttype: 'application/json',
    data: spec.data ?? { orderId: spec.eventId, customer: spec.key ?? 'none' },
  };
  const { data: _data, ...attributes } = event;
  const now = new Date().toISOString();
  return {
    id: deadLetterId(event, rule, target),
    bus: spec.bus ?? 'default',
    rule,
    target,
    attributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, String(v)])),
    body: Buffer.from(JSON.stringify(event)).toString('base64'),
    contentType: 'application/cloudevents+json',
    ...(spec.key === undefined ? {} : { partitionKey: spec.key }),
    ...(spec.eventSeq === undefined ? {} : { eventSeq: spec.eventSeq }),
    acceptedAt: spec.acceptedAt ?? Date.now(),
    failure: {
      stage: spec.stage ?? 'deliver',
      attempts: spec.attempts ?? 3,
      firstAttemptAt: now,
      lastAttemptAt: now,
      errorClass: spec.errorClass ?? 'HttpStatusError',
      message: spec.message ?? 'the target answered 503',
      retryable: true,
      ...(spec.httpStatus === undefined ? { httpStatus: 503 } : { httpStatus: spec.httpStatus }),
    },
    ...(spec.traceparent === undefined ? {} : { traceparent: spec.traceparent }),
    deadLetteredAt: spec.deadLetteredAt ?? now,
  };
}

/** A manual clock: `sleep` resolves only when the test advances time past its deadline. */
export class ManualClock implements Clock {
  private time = 1_000_000;
  private sleepers: Array<{ until: number; resolve: (elapsed: boolean) => void }> = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (signal?.aborted) return resolve(false);
      const sleeper = { until: this.time + ms, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', () => resolve(false), { once: true });
    });
  }

  /** How many sleeps are waiting (the worker is blocked on its rate limit). */
  get waiting(): number {
    return this.sleepers.length;
  }

  advance(ms: number): void {
    this.time += ms;
    const due = this.sleepers.filter((s) => s.until <= this.time);
    this.sleepers = this.sleepers.filter((s) => s.until > this.time);
    for (const s of due) s.resolve(true);
  }
}
