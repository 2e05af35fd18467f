import { createHmac } from 'node:crypto';

const secretPrefix = 'whsec_';

/**
 * The HMAC key of a Standard Webhooks secret: `whsec_<base64>` decodes to its bytes (the format
 * the spec recommends and its libraries generate); any other string is used as UTF-8 bytes.
 */
export function webhookSigningKey(secret: string): Buffer {
  return secret.startsWith(secretPrefix)
    ? Buffer.from(secret.slice(secretPrefix.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/**
 * `webhook-signature` per Standard Webhooks: `v1,` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")),
 * `timestamp` in seconds since the epoch, as sent in `webhook-timestamp`.
 */
export function signWebhook(key: Buffer, id: string, timestamp: number, body: Uint8Array): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}
