import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.js';

/** The drizzle API both drivers share; code above this package never knows which one runs. */
export type FuzeDb = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: FuzeDb;
  readonly driver: 'postgres' | 'pglite';
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
