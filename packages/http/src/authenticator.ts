import { createHash, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
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
 * through `findApiKey` and cached briefly so the hot path does not hit Postgres per request. The
 * cache holds at most `cacheKeys` ids, least recently used out first: a caller sending endless
 * made-up key ids cannot grow it.
 */
export function createTokenAuthenticator(options: {
  adminToken: string | undefined;
  findApiKey?: (id: string) => Promise<StoredApiKey | undefined>;
  cacheMs?: number;
  cacheKeys?: number;
}): Authenticator {
  const admin = options.adminToken === undefined ? undefined : Buffer.from(options.adminToken);
  // Misses are cached too (as `key: undefined`), so an unknown id costs one lookup per ttl.
  const cache = new LRUCache<string, { key: StoredApiKey | undefined }>({
    max: options.cacheKeys ?? 10_000,
    ttl: options.cacheMs ?? 10_000,
  });
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
      if (!entry) {
        entry = { key: await options.findApiKey(id) };
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
