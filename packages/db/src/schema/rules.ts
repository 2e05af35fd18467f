// biome-ignore lint/suspicious/noDeprecatedImports: only the old positional overload of primaryKey is deprecated; the object form used here is not
import { bigint, boolean, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per bus: bumped in the same transaction as any change to its rules or its settings.
 * `document` is the bus's `kind: Bus` document as applied (null: none, default settings).
 */
export const busRevisions = pgTable('bus_revisions', {
  bus: text('bus').primaryKey(),
  revision: bigint('revision', { mode: 'number' }).notNull().default(0),
  document: jsonb('document'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Rules as applied: the normalised rule document, and the bus revision that last changed it. */
export const rules = pgTable(
  'rules',
  {
    bus: text('bus').notNull(),
    name: text('name').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    document: jsonb('document').notNull(),
    revision: bigint('revision', { mode: 'number' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.bus, t.name] }), index('rules_bus_idx').on(t.bus)],
);
