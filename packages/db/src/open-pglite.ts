import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type { Database } from './database.js';
import { migrationsFolder } from './migrations.js';
import * as schema from './schema/index.js';

/**
 * Embedded Postgres (PGlite, WASM) in `dir`, or in memory when `dir` is undefined.
 * One process owns the directory: the laptop default, not a way to scale out.
 */
export async function openPglite(dir: string | undefined): Promise<Database> {
  if (dir) mkdirSync(dir, { recursive: true });
  const client = dir ? new PGlite(dir) : new PGlite();
  await client.waitReady;
  const db = drizzle({ client, schema });
  await migrate(db, { migrationsFolder });
  return {
    db,
    driver: 'pglite',
    async ping() {
      await client.query('select 1');
    },
    async listen(channel, onNotify) {
      const unlisten = await client.listen(channel, onNotify);
      return { unlisten: () => unlisten() };
    },
    async close() {
      await client.close();
    },
  };
}
