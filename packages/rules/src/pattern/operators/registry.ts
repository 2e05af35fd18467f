import { compileAffix } from './affix.js';
import { compileAnythingBut } from './anything-but.js';
import { compileCidr } from './cidr.js';
import { compileEqualsIgnoreCase } from './equals-ignore-case.js';
import { compileExists } from './exists.js';
import { compileNumeric } from './numeric.js';
import type { OperatorCompiler } from './operator.js';
import { compileWildcard } from './wildcard.js';

/** Every operator EventBridge accepts in a leaf array, by its exact (case-sensitive) name. */
export const operators: Readonly<Record<string, OperatorCompiler>> = {
  prefix: compileAffix('prefix'),
  suffix: compileAffix('suffix'),
  'equals-ignore-case': compileEqualsIgnoreCase,
  'anything-but': compileAnythingBut,
  numeric: compileNumeric,
  exists: compileExists,
  cidr: compileCidr,
  wildcard: compileWildcard,
};

export const operatorNames: readonly string[] = Object.keys(operators);

/**
 * Keys reserved inside `$or` branches (event-ruler's RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP): the
 * operators, the numeric comparison signs and names event-ruler keeps for future operators.
 */
export const reservedInOr: ReadonlySet<string> = new Set([
  'exactly',
  'html',
  ...operatorNames,
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);
