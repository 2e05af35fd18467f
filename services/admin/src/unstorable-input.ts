import { FuzeError } from '@fuze/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Deeper than any admin document needs; Postgres' own stack limit is not far beyond. */
const maxBodyDepth = 64;

/**
 * Refuses what Postgres cannot store, with a 400 naming where it is, rather than a failed query
 * answered 500: a NUL character (U+0000) in the URL or the JSON body (text and jsonb cannot hold
 * one), and a body nested more than 64 levels deep.
 */
export const refuseUnstorableInput = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request) => {
      if (/%00/i.test(request.url))
        throw new FuzeError('FUZE_INVALID_REQUEST', 'the URL contains a NUL character (%00): remove it');
    });
    app.addHook('preValidation', async (request) => {
      const problem = unstorable(request.body);
      if (problem) throw new FuzeError('FUZE_INVALID_REQUEST', problem);
    });
  },
  { name: 'fuze-refuse-unstorable-input' },
);

/** What in `body` Postgres could not store, or undefined; iterative, so any depth is safe to walk. */
function unstorable(body: unknown): string | undefined {
  const stack: Array<{ value: unknown; pointer: string; depth: number }> = [
    { value: body, pointer: '', depth: 0 },
  ];
  while (stack.length > 0) {
    const { value, pointer, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000'))
        return `the body contains a NUL character (\\u0000) at "${pointer || '/'}": remove it`;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= maxBodyDepth)
      return `the body is nested more than ${maxBodyDepth} levels deep (at "${pointer}"): flatten it`;
    for (const [key, item] of Object.entries(value)) {
      const at = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (key.includes('\u0000'))
        return `the body contains a NUL character (\\u0000) in the key at "${at}": remove it`;
      stack.push({ value: item, pointer: at, depth: depth + 1 });
    }
  }
  return undefined;
}
