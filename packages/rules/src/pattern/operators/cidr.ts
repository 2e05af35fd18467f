import { parseCidr } from '../ip-address.js';
import type { ValueTest } from '../value-test.js';
import { fail, type OperatorCompiler, requireString } from './operator.js';

/** `cidr`: an IPv4 or IPv6 block; matches string values that are addresses inside it. */
export const compileCidr: OperatorCompiler = (argument, at, source): ValueTest => {
  const parsed = parseCidr(requireString(argument, at, 'cidr'));
  if (!parsed.ok) fail(at, parsed.problem);
  const { range } = parsed;
  return { kind: 'cidr', range, key: `c:${range.version}:${range.low}-${range.high}`, source };
};
