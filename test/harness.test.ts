import {
  createTestDatabase,
  type NatsServerHandle,
  startNatsServer,
  startPostgresServer,
  waitFor,
} from '@fuze/test/harness';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Publishes `count` messages to a new stream and returns the stream's name. */
async function fillStream(url: string, name: string, count: number): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    const js = jetstream(nc);
    for (let i = 1; i <= count; i++) await js.publish(`${name}.msg`, `message ${i}`);
  } finally {
    await nc.close();
  }
}

async function readStream(url: string, name: string): Promise<{ messages: number; first: string }> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(name);
    const first = await jsm.streams.getMessage(name, { seq: 1 });
    return { messages: info.state.messages, first: first?.string() ?? '' };
  } finally {
    await nc.close();
  }
}

describe('startNatsServer', () => {
  let nats: NatsServerHandle;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.[Symbol.asyncDispose]();
  });

  it('starts an isolated JetStream server on a free loopback port', async () => {
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    expect(nats.pid).toBeTypeOf('number');
    await fillStream(nats.url, 'FRESH', 3);
    expect(await readStream(nats.url, 'FRESH')).toEqual({ messages: 3, first: 'message 1' });
  });

  it('keeps stream data across a crash (SIGKILL) and a restart on the same port', async () => {
    await fillStream(nats.url, 'CRASHED', 5);
    const before = nats.pid;
    await nats.kill();
    expect(nats.pid).toBeUndefined();
    await nats.restart();
    expect(nats.pid).not.toBe(before);
    expect(await readStream(nats.url, 'CRASHED')).toEqual({ messages: 5, first: 'message 1' });
  });

  it('keeps stream data across a clean stop and restart', async () => {
    await fillStream(nats.url, 'STOPPED', 2);
    await nats.stop();
    await nats.restart();
    expect(await readStream(nats.url, 'STOPPED')).toEqual({ messages: 2, first: 'message 1' });
  });

  it('gives each call its own server', async () => {
    await using other = await startNatsServer();
    expect(other.port).not.toBe(nats.port);
    expect(other.storeDir).not.toBe(nats.storeDir);
    await fillStream(other.url, 'OTHER', 1);
    const nc = await connect({ servers: nats.url });
    try {
      const names = await (await jetstreamManager(nc)).streams.names().next();
      expect(names).not.toContain('OTHER');
    } finally {
      await nc.close();
    }
  });

  it('reports the server log tail when the server cannot start', async () => {
    const start = startNatsServer({ args: ['-c', '/nonexistent/fuze.conf'] });
    await expect(start).rejects.toThrow(/exited during start-up.*log tail:\n.*nonexistent\/fuze\.conf/s);
  });
});

describe('createTestDatabase', () => {
  it('creates an isolated database per call, and drop() removes it', async () => {
    const a = await createTestDatabase();
    const b = await createTestDatabase();
    const sqlA = postgres(a.url, { max: 1, onnotice: () => {} });
    const sqlB = postgres(b.url, { max: 1, onnotice: () => {} });
    try {
      expect(a.name).toMatch(/^fuze_test_[0-9a-f]+$/);
      expect(a.name).not.toBe(b.name);
      await sqlA`CREATE TABLE only_in_a (id int)`;
      const [found] = await sqlB`SELECT to_regclass('only_in_a') IS NOT NULL AS exists`;
      expect(found?.['exists']).toBe(false);
    } finally {
      await sqlB.end();
      // drop() must work while sqlA still holds a connection.
      await a.drop();
      await b.drop();
      await sqlA.end({ timeout: 0 });
    }
    const admin = postgres(
      process.env['FUZE_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test',
      {
        max: 1,
      },
    );
    try {
      const left = await admin`SELECT datname FROM pg_database WHERE datname IN (${a.name}, ${b.name})`;
      expect(left).toHaveLength(0);
    } finally {
      await admin.end();
    }
  });
});

describe('startPostgresServer', () => {
  it('keeps committed data across a crash (SIGKILL) and a clean restart', async () => {
    await using pg = await startPostgresServer();
    expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    const write = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      await write`CREATE TABLE kept (id int PRIMARY KEY)`;
      await write`INSERT INTO kept SELECT generate_series(1, 100)`;
    } finally {
      await write.end();
    }

    await pg.kill();
    await pg.restart();
    const afterCrash = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await afterCrash`SELECT count(*)::int AS n FROM kept`;
      expect(row?.['n']).toBe(100);
      await afterCrash`INSERT INTO kept VALUES (101)`;
    } finally {
      await afterCrash.end();
    }

    await pg.stop();
    await pg.restart();
    const afterStop = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await afterStop`SELECT count(*)::int AS n FROM kept`;
      expect(row?.['n']).toBe(101);
    } finally {
      await afterStop.end();
    }
  });
});

describe('waitFor', () => {
  it('returns the first truthy value of the predicate', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('throws with the message and the last error when the condition never holds', async () => {
    const failing = waitFor(
      () => {
        throw new Error('not yet');
      },
      { timeoutMs: 20, intervalMs: 1, message: 'the moon' },
    );
    await expect(failing).rejects.toThrow(/waiting for the moon: last error: not yet/);
  });
});
