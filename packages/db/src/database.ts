import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.js';

/** The drizzle API both drivers share; code above this package never knows which one runs. */
export type FuzeDb = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: FuzeDb;
  readonly driver: 'postgres' | 'pglite';
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /**
   * LISTEN on `channel`: `onNotify` gets each NOTIFY payload sent after the returned promise
   * resolves. Notifications sent while the connection is down are lost: callers that must not
   * miss work poll as well. postgres.js re-listens by itself after a reconnect.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<{ unlisten(): Promise<void> }>;
  close(): Promise<void>;
}
