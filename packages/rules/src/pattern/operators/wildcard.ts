import type { ValueTest } from '../value-test.js';
import { parseWildcard } from '../wildcard.js';
import { fail, type OperatorCompiler, requireString } from './operator.js';

/** `wildcard`: `*` matches any run of characters; `\*` and `\\` escape. */
export const compileWildcard: OperatorCompiler = (argument, at, source): ValueTest => {
  const parsed = parseWildcard(requireString(argument, at, 'wildcard'));
  if (!parsed.ok) fail(at, parsed.problem);
  const { program } = parsed;
  // A wildcard without `*` is an exact string match; keep the wildcard kind for explanations.
  return { kind: 'wildcard', program, key: `w:${JSON.stringify(program.pieces)}`, source };
};
