import { FuzeError } from '@fuze/core';
import { type CompiledPattern, compilePattern, isInvalidPatternError } from '@fuze/rules';

/**
 * Compiles an event pattern a request carries; an invalid one is 400 FUZE_INVALID_PATTERN whose
 * problem points into the request at `pointer` (`body.pattern.detail.type`, `query.pattern...`).
 */
export function compileRequestPattern(pattern: unknown, pointer: string): CompiledPattern {
  try {
    return compilePattern(pattern);
  } catch (err) {
    if (!isInvalidPatternError(err)) throw err;
    throw new FuzeError('FUZE_INVALID_PATTERN', err.message, {
      details: { problems: [{ pointer: `${pointer}${err.path.replace(/^\$/, '')}`, message: err.message }] },
    });
  }
}
