import { randomBytes } from 'node:crypto';
import { hashSecret } from './authenticator.js';

const idAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A new API key: `token` is shown to the user once; only `secretHash` is stored. */
export function issueApiKey(): { id: string; token: string; secretHash: string } {
  const id = Array.from(randomBytes(12), (b) => idAlphabet[b % idAlphabet.length]).join('');
  const secret = randomBytes(24).toString('base64url');
  return { id, token: `fuze_${id}_${secret}`, secretHash: hashSecret(secret) };
}
