import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** JSON Schemas for event `data`, per CloudEvent type; the gateway validates against them. */
export const eventSchemas = pgTable('event_schemas', {
  type: text('type').primaryKey(),
  schema: jsonb('schema').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
