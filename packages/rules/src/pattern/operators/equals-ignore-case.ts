import { caseInsensitive } from '../case-folding.js';
import type { ValueTest } from '../value-test.js';
import { type OperatorCompiler, requireString } from './operator.js';

/** `equals-ignore-case`: a string compared ignoring case, per character (see case-folding.ts). */
export const compileEqualsIgnoreCase: OperatorCompiler = (argument, at, source): ValueTest => {
  const text = requireString(argument, at, 'equals-ignore-case');
  return {
    kind: 'equals-ignore-case',
    value: caseInsensitive(text),
    key: `e:${JSON.stringify(text)}`,
    source,
  };
};
