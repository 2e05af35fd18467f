import { sql } from 'drizzle-orm';
import { bigint, boolean, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** JSON Schemas for event `data`, per CloudEvent type; the gateway validates against them. */
export const eventSchemas = pgTable('event_schemas', {
  type: text('type').primaryKey(),
  schema: jsonb('schema').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** API keys: only a SHA-256 of the secret is stored; the key id is the public prefix of the token. */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  secretHash: text('secret_hash').notNull(),
  scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** One row per bus: bumped in the same transaction as any change to its rules. */
export const busRevisions = pgTable('bus_revisions', {
  bus: text('bus').primaryKey(),
  revision: bigint('revision', { mode: 'number' }).notNull().default(0),
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
