/**
 * The registry of Fuze error codes. docs/errors.md documents each one; a test keeps the two in sync.
 * Retired codes stay here with `retired: true` so they are never reused.
 */
export const errorCodes = {
  FUZE_CONFIG_INVALID: { name: 'ConfigError', status: 500, summary: 'Start-up configuration is invalid' },
  FUZE_PORT_IN_USE: {
    name: 'PortInUseError',
    status: 500,
    summary: 'A port this process must listen on is taken',
  },
  FUZE_NATS_UNAVAILABLE: { name: 'NatsUnavailableError', status: 503, summary: 'NATS cannot be reached' },
  FUZE_TOPOLOGY_CONFLICT: {
    name: 'TopologyConflictError',
    status: 500,
    summary: 'An existing stream has a setting Fuze needs but JetStream cannot change in place',
  },
  FUZE_ADMIN_UNREACHABLE: {
    name: 'AdminUnreachableError',
    status: 503,
    summary: 'A client cannot reach the admin API, or it answered 5xx without a Fuze code',
  },
  FUZE_DATABASE_UNAVAILABLE: {
    name: 'DatabaseUnavailableError',
    status: 503,
    summary: 'Postgres cannot be reached',
  },
  FUZE_PUBLISH_FAILED: {
    name: 'PublishError',
    status: 503,
    summary: 'JetStream did not acknowledge a publish',
  },
  FUZE_BUS_UNAVAILABLE: {
    name: 'BusUnavailableError',
    status: 503,
    summary: 'JetStream did not store the event in time: NATS is down or has no quorum',
  },
  FUZE_PUBLISH_TIMEOUT: {
    name: 'PublishTimeoutError',
    status: 504,
    summary: 'JetStream did not answer in time',
  },
  FUZE_INVALID_EVENT: {
    name: 'InvalidEventError',
    status: 400,
    summary: 'The CloudEvent is malformed or invalid',
  },
  FUZE_INVALID_DATA: {
    name: 'InvalidDataError',
    status: 400,
    summary: "The event's data fails its JSON Schema",
  },
  FUZE_MALFORMED_JSON: {
    name: 'MalformedJsonError',
    status: 400,
    summary: 'The request body is not valid JSON',
  },
  FUZE_EVENT_TOO_LARGE: {
    name: 'EventTooLargeError',
    status: 413,
    summary: 'The event is over the size limit',
  },
  FUZE_BATCH_TOO_LARGE: { name: 'BatchTooLargeError', status: 413, summary: 'The batch has too many events' },
  FUZE_UNSUPPORTED_MEDIA_TYPE: {
    name: 'UnsupportedMediaTypeError',
    status: 415,
    summary: 'The request content type is not a CloudEvents mode Fuze accepts',
  },
  FUZE_UNAUTHORIZED: { name: 'UnauthorizedError', status: 401, summary: 'A bearer token is required' },
  FUZE_FORBIDDEN: {
    name: 'ForbiddenError',
    status: 403,
    summary: 'The token lacks the scope this call needs',
  },
  FUZE_NOT_FOUND: { name: 'NotFoundError', status: 404, summary: 'No such resource' },
  FUZE_REQUEST_TOO_LARGE: {
    name: 'RequestTooLargeError',
    status: 413,
    summary: 'The request body is over the size limit',
  },
  FUZE_REQUEST_TIMEOUT: {
    name: 'RequestTimeoutError',
    status: 408,
    summary: 'The request did not arrive whole in time',
  },
  FUZE_URI_TOO_LONG: {
    name: 'UriTooLongError',
    status: 414,
    summary: 'A path parameter of the URL is too long',
  },
  FUZE_HEADERS_TOO_LARGE: {
    name: 'HeadersTooLargeError',
    status: 431,
    summary: "The request's headers are over the size limit",
  },
  FUZE_INVALID_REQUEST: { name: 'InvalidRequestError', status: 400, summary: 'The request fails validation' },
  FUZE_SCHEMA_INVALID: {
    name: 'InvalidSchemaError',
    status: 400,
    summary: 'A registered event JSON Schema does not compile',
  },
  FUZE_INVALID_RULE: {
    name: 'InvalidRuleError',
    status: 400,
    summary: 'A rule document is invalid; nothing was applied',
  },
  FUZE_INVALID_PATTERN: { name: 'InvalidPatternError', status: 400, summary: 'An event pattern is invalid' },
  FUZE_TIMER_NOT_FOUND: { name: 'TimerNotFoundError', status: 404, summary: 'No timer has this key' },
  FUZE_TIMER_NOT_SCHEDULED: {
    name: 'TimerNotScheduledError',
    status: 409,
    summary: 'The timer is not scheduled (completed, cancelled, paused or failed): it cannot fire now',
  },
  FUZE_INVALID_TIMER: {
    name: 'InvalidTimerError',
    status: 400,
    summary: 'The timer definition is invalid (schedule, event, misfire policy or key)',
  },
  FUZE_DEAD_LETTER_NOT_FOUND: {
    name: 'DeadLetterNotFoundError',
    status: 404,
    summary: 'No dead letter has this id (or it was purged)',
  },
  FUZE_ALREADY_REPLAYED: {
    name: 'AlreadyReplayedError',
    status: 409,
    summary: 'The dead letters were already replayed successfully; replay again with force',
  },
  FUZE_REPLAY_CONFLICT: {
    name: 'ReplayConflictError',
    status: 409,
    summary: 'The dead letters are being replayed by another replay job',
  },
  FUZE_REPLAY_JOB_NOT_FOUND: {
    name: 'ReplayJobNotFoundError',
    status: 404,
    summary: 'No replay job has this id',
  },
  FUZE_REPLAY_JOB_FINISHED: {
    name: 'ReplayJobFinishedError',
    status: 409,
    summary: 'The replay job has already finished; there is nothing to cancel',
  },
  FUZE_FILTER_REQUIRED: {
    name: 'FilterRequiredError',
    status: 400,
    summary: 'A bulk DLQ operation needs a filter (or all=true)',
  },
  FUZE_UNKNOWN_TARGET: {
    name: 'UnknownTargetError',
    status: 400,
    summary: 'No rule defines a target of this name',
  },
  FUZE_ARCHIVE_EXPIRED: {
    name: 'ArchiveExpiredError',
    status: 410,
    summary: 'Part of the replay window is older than the events stream keeps',
  },
  FUZE_RESERVED_BUS: {
    name: 'ReservedBusError',
    status: 403,
    summary: 'The bus is reserved for Fuze’s own system events; applications cannot publish to it',
  },
  FUZE_STATE_TOO_LARGE: {
    name: 'StateTooLargeError',
    status: 413,
    summary: 'A processor state is larger than 256 KiB of JSON',
  },
  FUZE_STATE_INVALID: {
    name: 'InvalidStateError',
    status: 400,
    summary: 'A processor state cannot be kept: not JSON, or the event has no partition key',
  },
} as const satisfies Record<string, { name: string; status: number; summary: string; retired?: boolean }>;

export type ErrorCode = keyof typeof errorCodes;
