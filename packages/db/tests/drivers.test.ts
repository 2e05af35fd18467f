import { createTestDatabase, type TestDatabase } from '@fuze/test/harness';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, test } from 'vitest';
import {
  type Database,
  findApiKey,
  insertApiKey,
  listEventSchemas,
  openDatabase,
  putEventSchema,
  revokeApiKey,
} from '../src/index.js';

const created: TestDatabase[] = [];
afterAll(async () => {
  for (const d of created) await d.drop();
});

/** The same suite for both drivers, as drizzle runs its own against each. */
const drivers: Array<[string, () => Promise<Database>]> = [
  [
    'postgres.js',
    async () => {
      const testDb = await createTestDatabase();
      created.push(testDb);
      return openDatabase({ url: testDb.url });
    },
  ],
  ['PGlite', () => openDatabase({})],
];

describe.each(drivers)('%s', (_name, open) => {
  test('applies the migrations and answers ping', async () => {
    const database = await open();
    await database.ping();
    const tables = await database.db.execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    const names = (
      Array.isArray(tables) ? tables : (tables as { rows: Array<{ table_name: string }> }).rows
    ).map((r) => r.table_name);
    expect(names).toEqual(expect.arrayContaining(['api_keys', 'bus_revisions', 'event_schemas', 'rules']));
    await database.close();
  });

  test('api keys: insert, find, revoke', async () => {
    const database = await open();
    await insertApiKey(database.db, {
      id: 'abc123abc123',
      name: 'shop',
      secretHash: 'ff',
      scopes: ['events:publish'],
    });
    expect(await findApiKey(database.db, 'abc123abc123')).toEqual({
      id: 'abc123abc123',
      name: 'shop',
      secretHash: 'ff',
      scopes: ['events:publish'],
      revoked: false,
    });
    expect(await revokeApiKey(database.db, 'abc123abc123')).toBe(true);
    expect((await findApiKey(database.db, 'abc123abc123'))?.revoked).toBe(true);
    expect(await revokeApiKey(database.db, 'nope')).toBe(false);
    await database.close();
  });

  test('event schemas: put replaces, list returns the latest', async () => {
    const database = await open();
    await putEventSchema(database.db, 'com.x', { type: 'object' });
    await putEventSchema(database.db, 'com.x', { type: 'string' });
    expect((await listEventSchemas(database.db)).map(({ type, schema }) => ({ type, schema }))).toEqual([
      { type: 'com.x', schema: { type: 'string' } },
    ]);
    await database.close();
  });
});

test('postgres.js: concurrent starters migrate once (advisory lock), re-opening is a no-op', async () => {
  const testDb = await createTestDatabase();
  created.push(testDb);
  const opened = await Promise.all([1, 2, 3].map(() => openDatabase({ url: testDb.url })));
  const again = await openDatabase({ url: testDb.url });
  const rows = await again.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  const list = Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows;
  expect((list[0] as { n: number }).n).toBeGreaterThanOrEqual(1);
  for (const d of [...opened, again]) await d.close();
});

test('PGlite keeps its data in the data directory across restarts', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'fuze-pglite-'));
  try {
    const first = await openDatabase({ dataDir: dir });
    await putEventSchema(first.db, 'kept', { type: 'object' });
    await first.close();
    const second = await openDatabase({ dataDir: dir });
    expect((await listEventSchemas(second.db)).map((s) => s.type)).toEqual(['kept']);
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
