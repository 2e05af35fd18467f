import { describeType, fail, type OperatorCompiler, type OperatorResult } from './operator.js';

/**
 * `exists`: `true` is satisfied by any leaf value (null included); `false` by a field with no leaf
 * value (missing, an empty array, or an object: exists only looks at leaves, as in event-ruler).
 */
export const compileExists: OperatorCompiler = (argument, at, source): OperatorResult => {
  if (argument === true) return { kind: 'exists', key: 'exists', source };
  if (argument === false) return { kind: 'absent', key: 'absent', source };
  return fail(at, `exists must be true or false, got ${describeType(argument)}`);
};
