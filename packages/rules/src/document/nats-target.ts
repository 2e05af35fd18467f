import type { FieldPath } from './document-location.js';
import type { NatsDelivery } from './document-types.js';
import { checkKnownFields, readBoolean, readMapping, readString } from './field-readers.js';
import type { Problems } from './problems.js';

const natsFields = ['subject', 'jetstream'];
const MAX_SUBJECT_LENGTH = 256;

function checkSubject(subject: string): string | undefined {
  const tokens = subject.split('.');
  if (tokens.some((token) => token === ''))
    return `"${subject}" has an empty token: subjects look like orders.billing`;
  if (tokens.some((token) => token === '*' || token === '>')) {
    return `"${subject}" contains a wildcard: a target publishes to one concrete subject`;
  }
  if (/[\s*>]/.test(subject)) return `"${subject}" may not contain whitespace, "*" or ">"`;
  return undefined;
}

/** `nats: { subject, jetstream }`. */
export function readNatsDelivery(
  raw: unknown,
  path: FieldPath,
  problems: Problems,
): NatsDelivery | undefined {
  const nats = readMapping(raw, path, problems, '{ subject: orders.billing }');
  if (!nats) return undefined;
  checkKnownFields(nats, path, natsFields, problems);
  const subject = readString(nats, 'subject', path, problems, {
    required: true,
    maxLength: MAX_SUBJECT_LENGTH,
    check: checkSubject,
  });
  const jetstream = readBoolean(nats, 'jetstream', path, problems, false);
  return subject === undefined ? undefined : { subject, jetstream };
}
