import { createTestDatabase } from '@fuze/test/harness';
import postgres from 'postgres';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { openDatabase } from '../src/index.js';

// A Postgres shutdown or failover ends every session with 57P01 (admin_shutdown). postgres.js
// 3.4 threw that error from a socket callback on the next query of the ended connection: an
// uncaught exception that killed the whole process. The client must fail the query instead.
const uncaught: unknown[] = [];
const onUncaught = (err: unknown): void => {
  uncaught.push(err);
};
beforeEach(() => {
  uncaught.length = 0;
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});
afterEach(() => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
});

test('terminated sessions fail queries, not the process, and the client reconnects', async () => {
  await using testDb = await createTestDatabase();
  const database = await openDatabase({ url: testDb.url });
  const admin = postgres(testDb.url, { max: 1, onnotice: () => {} });
  try {
    const outcomes = { ok: 0, failed: 0 };
    for (let round = 0; round < 20; round++) {
      await database.ping();
      await admin`select pg_terminate_backend(pid) from pg_stat_activity
                  where datname = ${testDb.name} and pid <> pg_backend_pid()`;
      try {
        await database.ping();
        outcomes.ok++;
      } catch {
        outcomes.failed++;
      }
      // The crash came from the socket's close handler, a tick or two after the query.
      const until = Date.now() + 50;
      while (Date.now() < until) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(uncaught).toEqual([]);
    expect(outcomes.ok + outcomes.failed).toBe(20);
    await database.ping();
  } finally {
    await admin.end();
    await database.close();
  }
});
