import { join } from 'node:path';
import type { Database } from './database.js';
import { openPglite } from './open-pglite.js';
import { openPostgres } from './open-postgres.js';

/** postgres.js when a URL is given, else embedded PGlite under `${dataDir}/pg` (or in memory). */
export function openDatabase(options: {
  url?: string | undefined;
  dataDir?: string | undefined;
}): Promise<Database> {
  if (options.url) return openPostgres(options.url);
  return openPglite(options.dataDir === undefined ? undefined : join(options.dataDir, 'pg'));
}
