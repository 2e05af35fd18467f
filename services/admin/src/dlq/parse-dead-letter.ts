import type { DeadLetterRecord } from '@fuze/core';

/** A DLQ stream message that is not a dead-letter record this version understands. */
export class MalformedDeadLetterError extends Error {
  override readonly name = 'MalformedDeadLetterError';
}

/**
 * Parses and checks a record read from the DLQ stream: everything the index stores must be
 * there and well-formed, or the record is reported as malformed (never half-indexed).
 */
export function parseDeadLetter(data: Uint8Array): DeadLetterRecord {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    throw new MalformedDeadLetterError(`not JSON: ${(err as Error).message}`);
  }
  const r = object(value, 'record');
  for (const field of ['id', 'bus', 'rule', 'target', 'body', 'contentType'] as const)
    string(r[field], field);
  const attributes = object(r.attributes, 'attributes');
  for (const [name, v] of Object.entries(attributes)) string(v, `attributes.${name}`);
  number(r.acceptedAt, 'acceptedAt');
  time(r.deadLetteredAt, 'deadLetteredAt');
  const f = object(r.failure, 'failure');
  if (f.stage !== 'plan' && f.stage !== 'route' && f.stage !== 'deliver')
    fail('failure.stage', 'plan, route or deliver');
  number(f.attempts, 'failure.attempts');
  time(f.firstAttemptAt, 'failure.firstAttemptAt');
  time(f.lastAttemptAt, 'failure.lastAttemptAt');
  string(f.errorClass, 'failure.errorClass');
  string(f.message, 'failure.message');
  if (f.httpStatus !== undefined) number(f.httpStatus, 'failure.httpStatus');
  if (r.partitionKey !== undefined) string(r.partitionKey, 'partitionKey');
  if (r.eventSeq !== undefined) number(r.eventSeq, 'eventSeq');
  if (r.traceparent !== undefined) string(r.traceparent, 'traceparent');
  if (r.replay !== undefined) {
    const replay = object(r.replay, 'replay');
    string(replay.jobId, 'replay.jobId');
    string(replay.deadLetterId, 'replay.deadLetterId');
  }
  return value as DeadLetterRecord;
}

function fail(field: string, expected: string): never {
  throw new MalformedDeadLetterError(`${field}: expected ${expected}`);
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'an object');
  return value as Record<string, unknown>;
}

function string(value: unknown, field: string): void {
  if (typeof value !== 'string') fail(field, 'a string');
}

function number(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(field, 'a number');
}

function time(value: unknown, field: string): void {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) fail(field, 'an RFC 3339 time');
}
