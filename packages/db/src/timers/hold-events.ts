import { sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { rowsOf } from '../raw-results.js';
import type { StoredTimerEvent } from '../schema/index.js';
import { notifyDue } from './timer-rows.js';

/** An event held for delayed delivery, as a one-shot timer. */
export interface HeldEvent {
  /** heldEventTimerKey(source, id): one timer per event identity. */
  key: string;
  bus: string;
  /** The event as it will enter the bus (delivery extensions removed). */
  event: StoredTimerEvent;
  atMs: number;
  traceparent?: string | undefined;
}

/**
 * Stores held events as one-shot timers in one transaction; an event already held (same key,
 * whatever its state) is left alone, so a redelivered message is a no-op. Returns how many
 * were new.
 */
export async function holdEvents(db: FuzeDb, held: readonly HeldEvent[]): Promise<number> {
  if (held.length === 0) return 0;
  const payload = JSON.stringify(
    held.map((h) => ({
      key: h.key,
      bus: h.bus,
      event: h.event,
      at: new Date(h.atMs).toISOString(),
      traceparent: h.traceparent ?? null,
    })),
  );
  return db.transaction(async (tx) => {
    const [row] = rowsOf<{ inserted: number; earliest: number | null; db_now: number }>(
      await tx.execute(sql`
        with ins as (
          insert into timers (key, bus, origin, event, schedule, misfire, state, next_fire_at, traceparent)
          select r.key, r.bus, 'delayed', r.event, jsonb_build_object('kind', 'at', 'at', r.at), 'fire-once',
                 'scheduled', r.at::timestamptz, r.traceparent
          from jsonb_to_recordset(${payload}::jsonb) as r(key text, bus text, event jsonb, at text, traceparent text)
          on conflict (key) do nothing
          returning next_fire_at
        )
        select count(*)::int as inserted,
               (extract(epoch from min(next_fire_at)) * 1000)::float8 as earliest,
               (extract(epoch from now()) * 1000)::float8 as db_now
        from ins`),
    );
    if (row!.earliest !== null) await notifyDue(tx, row!.earliest, row!.db_now);
    return row!.inserted;
  });
}
