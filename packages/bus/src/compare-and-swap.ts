import { isFuzeError } from '@fuze/core';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

const wrongLastSequence: readonly number[] = [
  JetStreamApiCodes.StreamWrongLastSequence,
  JetStreamApiCodes.StreamWrongLastSequenceUnknown,
];

/**
 * Whether a KV create or update (or a JetStreamPublisher publish with an expected last subject
 * sequence) lost a compare-and-swap: the key's last revision was not the one expected (another
 * writer got there first, or the key already exists).
 */
export function isWrongLastSequence(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return wrongLastSequence.includes(err.code);
  return (
    isFuzeError(err, 'FUZE_PUBLISH_FAILED') &&
    wrongLastSequence.includes(err.details.jetstreamErrorCode as number)
  );
}
