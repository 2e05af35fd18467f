import { caseInsensitive } from '../case-folding.js';
import type { PathSegment } from '../pattern-location.js';
import type { ValueTest } from '../value-test.js';
import { describeType, fail, isPlainObject, type OperatorCompiler, singleEntry } from './operator.js';

/** `prefix` / `suffix`: a string, or `{"equals-ignore-case": string}` to ignore case. */
export function compileAffix(kind: 'prefix' | 'suffix'): OperatorCompiler {
  return (argument, at, source): ValueTest => {
    const tag = kind === 'prefix' ? 'p' : 'x';
    if (typeof argument === 'string') {
      return {
        kind,
        value: argument,
        ignoreCase: undefined,
        key: `${tag}:${JSON.stringify(argument)}`,
        source,
      };
    }
    if (isPlainObject(argument)) {
      const [name, inner] = singleEntry(argument, at, `${kind} object`);
      const innerAt: PathSegment[] = [...at, name];
      if (name !== 'equals-ignore-case') {
        fail(
          innerAt,
          `unsupported ${kind} operator "${name}": only "equals-ignore-case" is allowed inside ${kind}`,
        );
      }
      if (typeof inner !== 'string')
        fail(innerAt, `equals-ignore-case must be a string, got ${describeType(inner)}`);
      return {
        kind,
        value: inner,
        ignoreCase: caseInsensitive(inner),
        key: `${tag}i:${JSON.stringify(inner)}`,
        source,
      };
    }
    return fail(
      at,
      `${kind} must be a string or {"equals-ignore-case": string}, got ${describeType(argument)}`,
    );
  };
}
