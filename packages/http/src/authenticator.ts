import { createHash, timingSafeEqual } from 'node:crypto';
import type { Principal, Scope } from './scopes.js';

/** Turns a bearer token into a principal, or undefined when the token is unknown. */
export interface Authenticator {
  /** False on a laptop with no FUZE_ADMIN_TOKEN: every request is let through. */
  readonly required: boolean;
  authenticate(token: string): Promise<Principal | undefined>;
}

/** A stored API key as the authenticator needs it. */
export interface StoredApiKey {
  id: string;
  secretHash: string;
  scopes: readonly string[];
  revoked: boolean;
}

export const apiKeyTokenPattern = /^fuze_([a-z0-9]{12})_([A-Za-z0-9_-]{20,})$/;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * The admin token (FUZE_ADMIN_TOKEN, all scopes) and API keys `fuze_<id>_<secret>`, looked up
 * through `findApiKey` and cached briefly so the hot path does not hit Postgres per request.
 */
export function createTokenAuthenticator(options: {
  adminToken: string | undefined;
  findApiKey?: (id: string) => Promise<StoredApiKey | undefined>;
  cacheMs?: number;
}): Authenticator {
  const admin = options.adminToken === undefined ? undefined : Buffer.from(options.adminToken);
  const cache = new Map<string, { key: StoredApiKey | undefined; until: number }>();
  const cacheMs = options.cacheMs ?? 10_000;
  return {
    required: admin !== undefined,
    async authenticate(token) {
      const presented = Buffer.from(token);
      if (admin && presented.length === admin.length && timingSafeEqual(presented, admin)) {
        return { id: 'admin', scopes: 'all' };
      }
      const match = apiKeyTokenPattern.exec(token);
      if (!match || !options.findApiKey) return undefined;
      const [, id, secret] = match as unknown as [string, string, string];
      let entry = cache.get(id);
      if (!entry || entry.until < Date.now()) {
        entry = { key: await options.findApiKey(id), until: Date.now() + cacheMs };
        cache.set(id, entry);
      }
      const key = entry.key;
      if (!key || key.revoked) return undefined;
      const expected = Buffer.from(key.secretHash, 'hex');
      const actual = Buffer.from(hashSecret(secret), 'hex');
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
      return { id: `key:${id}`, scopes: new Set(key.scopes as Scope[]) };
    },
  };
}
