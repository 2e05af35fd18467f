import { deadLetterStates, replayJobKinds, replayJobStates } from '@fuze/db';

/** JSON schemas shared by the DLQ and replay routes (they also make the OpenAPI document). */

export { problemSchema as problem } from '../problem-schema.js';

const name = { type: 'string', minLength: 1, maxLength: 256 } as const;

/** The filter fields, as query parameters (list, purge) and as the `filter` of a replay. */
export const filterProperties = {
  target: { ...name, description: 'the target the delivery was for' },
  rule: { ...name, description: 'the rule that matched' },
  bus: { ...name, description: 'the bus the event was on' },
  type: { ...name, description: 'the CloudEvent type' },
  source: { ...name, description: 'the CloudEvent source' },
  from: { type: 'string', format: 'date-time', description: 'dead-lettered at or after (RFC 3339)' },
  to: { type: 'string', format: 'date-time', description: 'dead-lettered at or before (RFC 3339)' },
  error: {
    type: 'string',
    minLength: 1,
    maxLength: 200,
    description: 'text in the error class or message (case-insensitive)',
  },
  state: {
    type: 'string',
    enum: [...deadLetterStates],
    description: 'dead, replaying, replayed or purged (default: all but purged)',
  },
} as const;

export interface FilterQuery {
  target?: string;
  rule?: string;
  bus?: string;
  type?: string;
  source?: string;
  from?: string;
  to?: string;
  error?: string;
  state?: (typeof deadLetterStates)[number];
}

const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const nullableString = { type: ['string', 'null'] } as const;

/** A dead letter as the index holds it. */
export const deadLetterSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    bus: { type: 'string' },
    rule: { type: 'string' },
    target: { type: 'string' },
    type: { type: 'string' },
    source: { type: 'string' },
    eventId: { type: 'string', description: 'the CloudEvent id (kept by a replay)' },
    subject: nullableString,
    partitionKey: nullableString,
    stage: {
      type: 'string',
      enum: ['plan', 'route', 'deliver'],
      description:
        "plan: the router could not plan the event (target _router; a replay routes it again); route: one target's delivery could not be built (e.g. its input transformer); deliver: the target failed",
    },
    errorClass: { type: 'string' },
    errorMessage: { type: 'string' },
    httpStatus: { type: ['integer', 'null'] },
    attempts: { type: 'integer' },
    firstAttemptAt: time,
    lastAttemptAt: time,
    deadLetteredAt: time,
    acceptedAt: { ...time, description: 'when the bus accepted the event' },
    eventSeq: { type: ['integer', 'null'], description: 'its sequence in the events stream' },
    traceId: nullableString,
    dlqSeq: { type: 'integer', description: 'sequence of the record in the DLQ stream' },
    state: { type: 'string', enum: [...deadLetterStates] },
    replayJobId: { ...nullableString, description: 'the replay job that last took this entry' },
    replayedAt: { ...nullableTime, description: 'when its last replay was stored in DELIVERY' },
    replayCount: { type: 'integer' },
    lastReplayError: nullableString,
    replayOf: {
      type: ['object', 'null'],
      description: 'set when this is the failure of a replayed delivery',
      properties: { deadLetterId: { type: 'string' }, jobId: { type: 'string' } },
    },
    purgedAt: nullableTime,
  },
} as const;

export const replayJobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: {
      type: 'string',
      enum: [...replayJobKinds],
      description: '`dead-letters` (POST /v1/dlq/replay) or `archive` (POST /v1/archive/replays)',
    },
    state: { type: 'string', enum: [...replayJobStates] },
    progress: { type: 'number', minimum: 0, maximum: 1, description: 'how far the job is, from 0 to 1' },
    total: {
      type: 'integer',
      description: 'entries the job took; for an archive replay, the events it read (known once completed)',
    },
    done: {
      type: 'integer',
      description: 'entries republished to DELIVERY (acked); for an archive replay, events routed again',
    },
    failed: {
      type: 'integer',
      description:
        'entries that could not be replayed (see failures); for an archive replay, events not routable',
    },
    skipped: { type: 'integer', description: 'matched but already replayed, or in another job' },
    dryRun: { type: 'boolean' },
    force: { type: 'boolean' },
    target: { ...nullableString, description: 'the target replayed to, when not the entries’ own' },
    ratePerSecond: { type: ['integer', 'null'] },
    selection: {
      type: 'object',
      properties: {
        ids: { type: 'array', items: { type: 'string' } },
        filter: { type: 'object', properties: filterProperties },
        archive: {
          type: 'object',
          description: 'an archive replay: the bus, the window [from, to) and the rules and targets it named',
          properties: {
            bus: { type: 'string' },
            from: time,
            to: time,
            rules: { type: 'array', items: { type: 'string' } },
            targets: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
    archive: {
      type: ['object', 'null'],
      description:
        'an archive replay once running: the stream sequences of the window, the last one stored, and what it routed (a dry run: what it would route)',
      properties: {
        firstSeq: { type: 'integer' },
        lastSeq: { type: 'integer' },
        cursor: { type: 'integer' },
        matched: { type: 'integer', description: 'events that matched at least one rule' },
        deliveries: {
          type: 'integer',
          description: 'deliveries made (dead letters of unrenderable ones included)',
        },
        byRule: { type: 'object', additionalProperties: { type: 'integer' } },
        byTarget: { type: 'object', additionalProperties: { type: 'integer' } },
      },
    },
    failures: {
      type: 'array',
      description: 'the first per-entry failures',
      items: { type: 'object', properties: { id: { type: 'string' }, reason: { type: 'string' } } },
    },
    error: nullableString,
    createdBy: { type: 'string' },
    createdAt: time,
    startedAt: nullableTime,
    finishedAt: nullableTime,
  },
} as const;

export const skippedSchema = {
  type: 'object',
  properties: {
    alreadyReplayed: { type: 'integer', description: 'replayed before (replay with force to include them)' },
    inAnotherJob: { type: 'integer', description: 'being replayed by another job' },
  },
} as const;
