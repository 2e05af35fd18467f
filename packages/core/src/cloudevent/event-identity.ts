import { createHash } from 'node:crypto';

/**
 * The JetStream `Nats-Msg-Id` of an accepted event: a digest of source+id, because the
 * CloudEvents spec makes that pair the event's identity and because header values must not
 * carry whatever bytes a producer put in them.
 */
export function eventMessageId(source: string, id: string): string {
  return createHash('sha256').update(source).update('\u0000').update(id).digest('base64url').slice(0, 32);
}
