import { fileURLToPath } from 'node:url';

/** drizzle-kit's output folder, beside src/ and dist/ alike. */
export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

/** Any constant: concurrent starters of a Postgres-backed Fuze queue on this advisory lock. */
export const migrationLockKey = 7_346_212_001;
