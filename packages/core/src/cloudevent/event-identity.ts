import { hash } from 'node:crypto';

/**
 * The JetStream `Nats-Msg-Id` of an accepted event: a digest of source+id, because the
 * CloudEvents spec makes that pair the event's identity and because header values must not
 * carry whatever bytes a producer put in them.
 */
export function eventMessageId(source: string, id: string): string {
  // One-shot hash: a Hash object per event cost more than the digest itself.
  return hash('sha256', `${source}\u0000${id}`, 'base64url').slice(0, 32);
}
