import { timerStates } from '@fuze/db';
import { MAX_TIMER_BATCH, misfirePolicies } from '@fuze/timers';

// The JSON Schemas of the timers API: its OpenAPI document and its request validation.

export const problem = { $ref: 'problem#' };
export const traceparentPattern = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

export const keyParams = {
  type: 'object',
  required: ['key'],
  properties: {
    key: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'The timer key: letters, digits and _ . : @ - (e.g. cert-renew:example.com)',
    },
  },
} as const;

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** A timer as the API shows it. */
export const timerSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    bus: { type: 'string' },
    origin: {
      type: 'string',
      enum: ['api', 'schedule', 'delayed'],
      description: 'api: set through this API; schedule: a YAML `kind: Schedule`; delayed: a held event',
    },
    state: { type: 'string', enum: [...timerStates] },
    event: {
      type: 'object',
      additionalProperties: true,
      description: 'The CloudEvent published at each firing (id, specversion and time are set then)',
    },
    schedule: {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['at', 'cron', 'rate'] },
        at: { type: 'string', description: 'one-shot due time (a `delay` is resolved into it)' },
        delay: { type: 'string', description: 'the delay it was put with, if any' },
        cron: { type: 'string' },
        timezone: { type: 'string' },
        rate: { type: 'string' },
      },
    },
    misfire: { type: 'string', enum: [...misfirePolicies] },
    misfireGrace: { type: 'string' },
    nextFireAt: { ...nullableTime, description: 'next due time; null when nothing is due' },
    lastDueAt: { ...nullableTime, description: 'due time of the last firing (its event `time`)' },
    lastFiredAt: { ...nullableTime, description: 'when the last firing was committed' },
    fireCount: { type: 'integer' },
    generation: { type: 'integer', description: 'bumped by every replace and cancel' },
    lastError: { type: ['string', 'null'] },
    lastOutcome: {
      type: ['object', 'null'],
      description:
        'what became of the last firing, once known: `published` (the event is in the bus), `delivered` (a dispatcher delivered it: the first rule and target, and when), or `dead-lettered` (a delivery of it was given up on: its dead letter, rule, target and error)',
      properties: {
        state: { type: 'string', enum: ['published', 'delivered', 'dead-lettered'] },
        deliveredAt: { type: 'string', format: 'date-time' },
        dueAt: { type: 'string', format: 'date-time' },
        deadLetterId: { type: 'string' },
        rule: { type: 'string' },
        target: { type: 'string' },
        error: { type: 'string' },
      },
      required: ['state', 'dueAt'],
    },
    rearm: {
      type: ['object', 'null'],
      description:
        'one-shot timers: fire again `after` a firing whose event was dead-lettered, `times` at most; `done` re-arms used since the last put',
      properties: { after: { type: 'string' }, times: { type: 'integer' }, done: { type: 'integer' } },
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const putBody = {
  type: 'object',
  required: ['event'],
  additionalProperties: false,
  description: 'Exactly one of at, delay, cron (with an optional timezone) or rate.',
  properties: {
    event: {
      type: 'object',
      required: ['type', 'source'],
      additionalProperties: true,
      description: 'A CloudEvent without id, specversion and time; extensions sit beside the attributes',
      properties: {
        type: { type: 'string', minLength: 1 },
        source: { type: 'string', minLength: 1 },
        subject: { type: 'string' },
        datacontenttype: { type: 'string' },
        dataschema: { type: 'string' },
        data: {},
      },
    },
    at: { type: 'string', description: 'fire once at this RFC 3339 time, e.g. 2030-01-01T09:00:00Z' },
    delay: { type: 'string', description: 'fire once after this duration, e.g. 30s, 15m, 30d' },
    cron: { type: 'string', description: 'five-field cron, e.g. "0 9 * * MON-FRI"' },
    timezone: { type: 'string', description: 'IANA time zone of cron (default UTC), e.g. Europe/Paris' },
    rate: { type: 'string', description: 'fire every period (at least 1s), e.g. 6h' },
    misfire: {
      type: 'string',
      enum: [...misfirePolicies],
      description: 'after an outage longer than misfireGrace: fire-once (default), fire-all or skip',
    },
    misfireGrace: {
      type: 'string',
      description: 'how late a firing may be before it is a misfire (default 60s)',
    },
    bus: { type: 'string', description: 'the bus the event enters (default: default)' },
    rearm: {
      type: 'object',
      additionalProperties: false,
      required: ['after'],
      description:
        'one-shot timers (at, delay) only: when a delivery of the fired event is dead-lettered, fire again this long after, at most `times` (default 1) per put',
      properties: {
        after: { type: 'string', description: 'e.g. 30s, 10m, 1h (1s to 30d)' },
        times: { type: 'integer', minimum: 1, maximum: 100 },
      },
    },
  },
} as const;

/** The body of `PUT /v1/timers`: up to MAX_TIMER_BATCH timers, each a `putBody` with its key. */
export const putBatchBody = {
  type: 'object',
  required: ['timers'],
  additionalProperties: false,
  properties: {
    timers: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_TIMER_BATCH,
      items: {
        ...putBody,
        required: ['key', ...putBody.required],
        properties: { key: keyParams.properties.key, ...putBody.properties },
      },
    },
  },
} as const;

/** What `PUT /v1/timers` answers: each timer's outcome, in the order given. */
export const putBatchResult = {
  type: 'object',
  properties: {
    created: { type: 'integer', description: 'timers that did not exist' },
    replaced: { type: 'integer', description: 'timers that existed: replaced and re-armed' },
    timers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          key: { type: 'string' },
          created: { type: 'boolean' },
          state: timerSchema.properties.state,
          nextFireAt: timerSchema.properties.nextFireAt,
          generation: timerSchema.properties.generation,
        },
      },
    },
  },
} as const;
