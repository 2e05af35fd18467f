import { expect, test } from 'vitest';
import { createTokenAuthenticator, hashSecret, type StoredApiKey } from '../src/authenticator.js';

const secret = 'a'.repeat(24);
const tokenFor = (id: string) => `fuze_${id}_${secret}`;

function counted(known: Record<string, StoredApiKey>) {
  const lookups: string[] = [];
  return {
    lookups,
    findApiKey: async (id: string) => {
      lookups.push(id);
      return known[id];
    },
  };
}

test('a key is looked up once per ttl, its miss too', async () => {
  const store = counted({
    abcdefabcdef: {
      id: 'abcdefabcdef',
      secretHash: hashSecret(secret),
      scopes: ['rules:read'],
      revoked: false,
    },
  });
  const auth = createTokenAuthenticator({ adminToken: 'x'.repeat(16), findApiKey: store.findApiKey });
  expect(await auth.authenticate(tokenFor('abcdefabcdef'))).toMatchObject({ id: 'key:abcdefabcdef' });
  expect(await auth.authenticate(tokenFor('abcdefabcdef'))).toMatchObject({ id: 'key:abcdefabcdef' });
  expect(await auth.authenticate(tokenFor('unknown00000'))).toBeUndefined();
  expect(await auth.authenticate(tokenFor('unknown00000'))).toBeUndefined();
  expect(store.lookups).toEqual(['abcdefabcdef', 'unknown00000']);
});

test('made-up key ids cannot grow the cache past its bound: the least recently used goes first', async () => {
  const store = counted({});
  const auth = createTokenAuthenticator({
    adminToken: 'x'.repeat(16),
    findApiKey: store.findApiKey,
    cacheKeys: 2,
  });
  for (const id of ['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc']) await auth.authenticate(tokenFor(id));
  await auth.authenticate(tokenFor('cccccccccccc')); // still cached
  await auth.authenticate(tokenFor('aaaaaaaaaaaa')); // evicted by the third: looked up again
  expect(store.lookups).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc', 'aaaaaaaaaaaa']);
});
