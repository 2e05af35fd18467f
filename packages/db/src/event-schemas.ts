import { sql } from 'drizzle-orm';
import type { FuzeDb } from './database.js';
import { eventSchemas } from './schema/index.js';

export async function listEventSchemas(
  db: FuzeDb,
): Promise<Array<{ type: string; schema: unknown; updatedAt: Date }>> {
  return db.select().from(eventSchemas);
}

export async function putEventSchema(db: FuzeDb, type: string, schema: unknown): Promise<void> {
  await db
    .insert(eventSchemas)
    .values({ type, schema })
    .onConflictDoUpdate({ target: eventSchemas.type, set: { schema, updatedAt: sql`now()` } });
}
