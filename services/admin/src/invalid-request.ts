import { FuzeError } from '@fuze/core';

/** A 400 naming each field at fault (its JSON pointer) and what is wrong with it. */
export function invalidRequest(...problems: Array<{ pointer: string; message: string }>): FuzeError {
  return new FuzeError('FUZE_INVALID_REQUEST', problems.map((p) => `${p.pointer}: ${p.message}`).join('; '), {
    details: { problems },
  });
}
