import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { errorCodes, FuzeError } from '../src/index.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

test('docs/errors.md documents every code in the registry, and no other', () => {
  const documented = [...docs.matchAll(/^\|\s*`(FUZE_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);
  const registered = Object.entries(errorCodes).map(([code, { status }]) => [code, status]);
  expect(documented.sort()).toEqual(registered.sort());
});

test('a FuzeError carries its code, status and name from the registry', () => {
  const err = new FuzeError('FUZE_EVENT_TOO_LARGE', 'too big', { details: { limit: 1 } });
  expect(err).toMatchObject({ code: 'FUZE_EVENT_TOO_LARGE', statusCode: 413, name: 'EventTooLargeError' });
  expect(err.details).toEqual({ limit: 1 });
});
