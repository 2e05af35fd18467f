/**
 * What one scheduler instance did since it started: the database work per firing is
 * `statements / eventsPublished` (BEGIN and COMMIT count as statements).
 */
export interface SchedulerStats {
  /** Claim transactions (each: BEGIN, claim, [update], COMMIT). */
  claims: number;
  /** Claims that found nothing due (another instance was faster, or a stale due time). */
  emptyClaims: number;
  /** Range queries for upcoming due times. */
  peeks: number;
  /** SQL statements sent by the firing path, BEGIN/COMMIT included. */
  statements: number;
  /** Timer rows claimed (locked and read). */
  rowsClaimed: number;
  /** Timer rows updated after their firing. */
  rowsUpdated: number;
  /** Events JetStream stored (duplicates of a retried firing included). */
  eventsPublished: number;
  /** Claimed timers whose first due time was later than their grace. */
  misfires: number;
  /** Due times not fired because of the `skip` policy. */
  skipped: number;
  /** Publishes that failed (the timer is retried, or marked failed if JetStream refused it). */
  publishErrors: number;
  /** Events held for delayed delivery that this instance stored as timers. */
  heldEvents: number;
}

export function emptyStats(): SchedulerStats {
  return {
    claims: 0,
    emptyClaims: 0,
    peeks: 0,
    statements: 0,
    rowsClaimed: 0,
    rowsUpdated: 0,
    eventsPublished: 0,
    misfires: 0,
    skipped: 0,
    publishErrors: 0,
    heldEvents: 0,
  };
}
