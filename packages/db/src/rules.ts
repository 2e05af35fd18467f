import { and, eq, inArray, sql } from 'drizzle-orm';
import type { FuzeDb } from './database.js';
import { busRevisions, rules } from './schema/index.js';

/** A rule as stored: its normalised document (a `RuleDocument` of @fuze/rules, as JSON). */
export interface StoredRule {
  bus: string;
  name: string;
  enabled: boolean;
  revision: number;
  document: Record<string, unknown>;
  updatedAt: Date;
}

export async function listStoredRules(db: FuzeDb, bus?: string): Promise<StoredRule[]> {
  const rows = await db
    .select()
    .from(rules)
    .where(bus === undefined ? undefined : eq(rules.bus, bus))
    .orderBy(rules.bus, rules.name);
  return rows.map((r) => ({
    bus: r.bus,
    name: r.name,
    enabled: r.enabled,
    revision: r.revision,
    document: r.document as Record<string, unknown>,
    updatedAt: r.updatedAt,
  }));
}

export async function getStoredRule(db: FuzeDb, bus: string, name: string): Promise<StoredRule | undefined> {
  return (await listStoredRules(db, bus)).find((r) => r.name === name);
}

/** Current revision of every bus that ever had rules. */
export async function listBusRevisions(db: FuzeDb): Promise<Map<string, number>> {
  const rows = await db.select().from(busRevisions);
  return new Map(rows.map((r) => [r.bus, r.revision]));
}

/** A bus as stored: its revision and its `kind: Bus` document (a normalised `BusDocument`), if any. */
export interface StoredBus {
  bus: string;
  revision: number;
  document: Record<string, unknown> | null;
}

/** Every bus that ever had rules or a document, by name. */
export async function listStoredBuses(db: FuzeDb): Promise<StoredBus[]> {
  const rows = await db.select().from(busRevisions).orderBy(busRevisions.bus);
  return rows.map((r) => ({
    bus: r.bus,
    revision: r.revision,
    document: (r.document as Record<string, unknown> | null) ?? null,
  }));
}

export interface RuleChanges {
  upserts: Array<{ bus: string; name: string; enabled: boolean; document: Record<string, unknown> }>;
  deletes: Array<{ bus: string; name: string }>;
  /** Bus documents to store; `document: null` removes the bus's document (default settings). */
  buses?: Array<{ bus: string; document: Record<string, unknown> | null }>;
}

/**
 * Applies every change (rules and bus documents) in one transaction and bumps the revision of
 * each bus it touches, so routers see either none or all of it. Returns the new revision per bus.
 */
export async function applyRuleChanges(db: FuzeDb, changes: RuleChanges): Promise<Map<string, number>> {
  const busDocuments = changes.buses ?? [];
  const buses = [
    ...new Set([...changes.upserts, ...changes.deletes, ...busDocuments].map((c) => c.bus)),
  ].sort();
  return db.transaction(async (tx) => {
    const revisions = new Map<string, number>();
    for (const bus of buses) {
      // Row lock on the bus: concurrent applies to one bus are serialised.
      const [row] = await tx
        .insert(busRevisions)
        .values({ bus, revision: 1 })
        .onConflictDoUpdate({
          target: busRevisions.bus,
          set: { revision: sql`${busRevisions.revision} + 1`, updatedAt: sql`now()` },
        })
        .returning();
      revisions.set(bus, row!.revision);
    }
    for (const { bus, document } of busDocuments) {
      await tx.update(busRevisions).set({ document }).where(eq(busRevisions.bus, bus));
    }
    for (const { bus, name } of changes.deletes) {
      await tx.delete(rules).where(and(eq(rules.bus, bus), eq(rules.name, name)));
    }
    for (const rule of changes.upserts) {
      const revision = revisions.get(rule.bus)!;
      await tx
        .insert(rules)
        .values({ ...rule, revision })
        .onConflictDoUpdate({
          target: [rules.bus, rules.name],
          set: { enabled: rule.enabled, document: rule.document, revision, updatedAt: sql`now()` },
        });
    }
    return revisions;
  });
}

/** Names of the rules on `bus` among `names` (to tell creates from updates). */
export async function existingRuleNames(db: FuzeDb, bus: string, names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await db
    .select({ name: rules.name })
    .from(rules)
    .where(and(eq(rules.bus, bus), inArray(rules.name, names)));
  return new Set(rows.map((r) => r.name));
}
