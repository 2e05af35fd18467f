import { eq, sql } from 'drizzle-orm';
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

/** Removes the registered schema of `type`; false when none was registered. */
export async function deleteEventSchema(db: FuzeDb, type: string): Promise<boolean> {
  const removed = await db
    .delete(eventSchemas)
    .where(eq(eventSchemas.type, type))
    .returning({ type: eventSchemas.type });
  return removed.length > 0;
}
