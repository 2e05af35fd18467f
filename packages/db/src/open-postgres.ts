import { FuzeError } from '@fuze/core';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Database } from './database.js';
import { migrationLockKey, migrationsFolder } from './migrations.js';
import * as schema from './schema/index.js';

/** Connects with postgres.js and applies pending migrations (one instance at a time). */
export async function openPostgres(url: string): Promise<Database> {
  await applyMigrations(url);
  const client = postgres(url, { max: 10, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzle({ client, schema });
  return {
    db,
    driver: 'postgres',
    async ping() {
      await client`select 1`;
    },
    async listen(channel, onNotify) {
      const { unlisten } = await client.listen(channel, onNotify);
      return { unlisten };
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

async function applyMigrations(url: string): Promise<void> {
  // A session-level advisory lock needs one dedicated connection.
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select pg_advisory_lock(${migrationLockKey})`;
    await migrate(drizzle({ client }), { migrationsFolder });
  } catch (err) {
    throw new FuzeError(
      'FUZE_DATABASE_UNAVAILABLE',
      `cannot prepare the database at ${redact(url)}: ${(err as Error).message}. Check FUZE_DATABASE_URL and that Postgres is running.`,
      { cause: err },
    );
  } finally {
    await client.end({ timeout: 5 }).catch(() => {});
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@]+@/, '//$1:***@');
}
