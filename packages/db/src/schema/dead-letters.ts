import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/**
 * `dead`: in the DLQ, replayable. `replaying`: claimed by a replay job that has not yet had its
 * replay publish acked. `replayed`: the replay was stored in the DELIVERY stream. `purged`: removed
 * by an operator (the record is deleted from the DLQ stream; the index row stays for the audit).
 */
export const deadLetterStates = ['dead', 'replaying', 'replayed', 'purged'] as const;
export type DeadLetterState = (typeof deadLetterStates)[number];

export const deadLetterStages = ['plan', 'route', 'deliver'] as const;

/**
 * `pending` -> `running` -> `completed`; `cancelled` by DELETE; `failed` when the job cannot go on
 * (its per-entry failures do not fail it: they are counted in `failed`).
 */
export const replayJobStates = ['pending', 'running', 'completed', 'cancelled', 'failed'] as const;
export type ReplayJobState = (typeof replayJobStates)[number];

/** The filter of `GET /v1/dlq`, `POST /v1/dlq/replay` and `DELETE /v1/dlq`, as stored on a job. */
export interface StoredDeadLetterFilter {
  bus?: string;
  target?: string;
  rule?: string;
  type?: string;
  source?: string;
  /** ISO times, inclusive, on `dead_lettered_at`. */
  from?: string;
  to?: string;
  /** Matched case-insensitively against the error class and message. */
  error?: string;
  state?: DeadLetterState;
}

/** What a replay job replays: explicit ids, or every entry a filter matched when it was created. */
/** What a dead-letter replay job takes: ids, or a filter. */
export type DeadLetterSelection = { ids: string[] } | { filter: StoredDeadLetterFilter };
export type StoredReplaySelection = DeadLetterSelection | { archive: ArchiveWindow };

/** What a job replays: dead letters, or the events a bus accepted in a window (the archive). */
export const replayJobKinds = ['dead-letters', 'archive'] as const;
export type ReplayJobKind = (typeof replayJobKinds)[number];

/** An archive replay's selection: the bus's events accepted in [from, to), routed again by these rules. */
export interface ArchiveWindow {
  bus: string;
  /** RFC 3339 instants. */
  from: string;
  to: string;
  /** Only these rules (default: every enabled rule of the bus when the job runs). */
  rules?: string[];
  /** Only deliveries to these targets (default: every target of those rules). */
  targets?: string[];
}

/** What an archive replay routed: events that matched a selected rule, deliveries made (dead letters included). */
export interface ArchiveCounts {
  matched: number;
  deliveries: number;
  byRule: Record<string, number>;
  byTarget: Record<string, number>;
}

/** Where an archive replay is, and what it routed; updated with each page it stores. */
export interface ArchiveReplayProgress extends ArchiveCounts {
  /** The events stream's sequences the window spans (found when the job first runs). */
  firstSeq: number;
  lastSeq: number;
  /** The last sequence whose deliveries are stored: a resumed job reads on after it. */
  cursor: number;
}

export interface ReplayEntryFailure {
  id: string;
  reason: string;
}

const time = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * The Postgres index over the `<P>_DLQ` stream: one row per dead-letter record (id = record id),
 * written by the admin service's DLQ indexer. The record itself stays in the stream, found by
 * `dlq_stream_seq`.
 */
export const deadLetters = pgTable(
  'dead_letters',
  {
    id: text('id').primaryKey(),
    bus: text('bus').notNull(),
    rule: text('rule').notNull(),
    target: text('target').notNull(),
    type: text('type').notNull(),
    source: text('source').notNull(),
    eventId: text('event_id').notNull(),
    subject: text('subject'),
    partitionKey: text('partition_key'),
    stage: text('stage', { enum: deadLetterStages }).notNull(),
    errorClass: text('error_class').notNull(),
    errorMessage: text('error_message').notNull(),
    httpStatus: integer('http_status'),
    attempts: integer('attempts').notNull(),
    firstAttemptAt: time('first_attempt_at').notNull(),
    lastAttemptAt: time('last_attempt_at').notNull(),
    deadLetteredAt: time('dead_lettered_at').notNull(),
    /** When the bus accepted the event: with `event_seq`, the original order replays keep. */
    acceptedAt: time('accepted_at').notNull(),
    eventSeq: bigint('event_seq', { mode: 'number' }),
    /** The trace id of the record's traceparent. */
    traceId: text('trace_id'),
    dlqStreamSeq: bigint('dlq_stream_seq', { mode: 'number' }).notNull(),
    state: text('state', { enum: deadLetterStates }).notNull().default('dead'),
    /** The job that last claimed this entry (replaying, or replayed when `replayed_at` is set). */
    replayJobId: text('replay_job_id'),
    /** When the last successful replay publish was acked. */
    replayedAt: time('replayed_at'),
    replayCount: integer('replay_count').notNull().default(0),
    /** Why the last replay attempt of this entry failed (e.g. its rule no longer renders it). */
    lastReplayError: text('last_replay_error'),
    /** Set when this record is the failure of a replayed delivery: the dead letter it replayed. */
    replayOf: text('replay_of'),
    replayOfJob: text('replay_of_job'),
    purgedAt: time('purged_at'),
    indexedAt: time('indexed_at').notNull().defaultNow(),
  },
  (t) => [
    index('dead_letters_listing_idx').on(t.deadLetteredAt, t.id),
    index('dead_letters_target_idx').on(t.target, t.deadLetteredAt),
    index('dead_letters_rule_idx').on(t.rule, t.deadLetteredAt),
    index('dead_letters_type_idx').on(t.type, t.deadLetteredAt),
    index('dead_letters_source_idx').on(t.source, t.deadLetteredAt),
    index('dead_letters_state_idx').on(t.state, t.deadLetteredAt),
    index('dead_letters_replaying_idx')
      .on(t.replayJobId, t.acceptedAt, t.eventSeq, t.firstAttemptAt, t.dlqStreamSeq)
      .where(sql`state = 'replaying'`),
    index('dead_letters_replay_of_idx').on(t.replayOf).where(sql`replay_of is not null`),
  ],
);

/**
 * Replay jobs: state and progress live here, so a job survives an admin restart and any admin
 * instance may resume it. Instances claim a job with FOR UPDATE SKIP LOCKED and hold it by a lease.
 */
export const replayJobs = pgTable(
  'replay_jobs',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: replayJobKinds }).notNull().default('dead-letters'),
    selection: jsonb('selection').$type<StoredReplaySelection>().notNull(),
    /** Archive replays: position and counts (done = events read, failed = events not routable). */
    archive: jsonb('archive').$type<ArchiveReplayProgress>(),
    /** Replay to this target instead of each entry's own. */
    target: text('target'),
    ratePerSecond: integer('rate_per_second'),
    dryRun: boolean('dry_run').notNull().default(false),
    force: boolean('force').notNull().default(false),
    state: text('state', { enum: replayJobStates }).notNull().default('pending'),
    total: integer('total').notNull().default(0),
    done: integer('done').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    /** Matched but not taken: already replayed (without force) or claimed by another job. */
    skipped: integer('skipped').notNull().default(0),
    /** The first per-entry failures (bounded). */
    failures: jsonb('failures').$type<ReplayEntryFailure[]>().notNull().default(sql`'[]'::jsonb`),
    error: text('error'),
    createdBy: text('created_by').notNull(),
    claimedBy: text('claimed_by'),
    leaseUntil: time('lease_until'),
    createdAt: time('created_at').notNull().defaultNow(),
    startedAt: time('started_at'),
    finishedAt: time('finished_at'),
  },
  (t) => [index('replay_jobs_open_idx').on(t.createdAt).where(sql`state in ('pending', 'running')`)],
);

/** Who did what to the dead letters, and when (purges, replays, cancellations). */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: time('at').notNull().defaultNow(),
    /** The principal id (API key id, `admin`, or `anonymous` without auth). */
    principal: text('principal').notNull(),
    /** e.g. `dlq.purge`, `dlq.replay`, `dlq.replay.cancel`. */
    action: text('action').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('audit_log_at_idx').on(t.at)],
);
