import { ipKeyOf } from '../ip-address.js';
import type { PathSegment } from '../pattern-location.js';
import type { ScalarValue } from '../types.js';
import type { ValueTest } from '../value-test.js';
import { fail } from './operator.js';

/**
 * A literal in a leaf array. A string that is an IP literal matches by address, as event-ruler
 * turns such strings into a one-address range (`"::1"` matches `"0:0:0:0:0:0:0:1"`).
 */
export function compileExact(value: ScalarValue, at: readonly PathSegment[]): ValueTest {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(at, `${value} is not a JSON number`);
    // Normalise -0 so that keys agree with value equality.
    const normalised = value === 0 ? 0 : value;
    return { kind: 'exact', value: normalised, ipKey: undefined, key: `n:${normalised}`, source: value };
  }
  if (typeof value === 'string') {
    const ipKey = ipKeyOf(value);
    const key = ipKey === undefined ? `s:${JSON.stringify(value)}` : `ip:${ipKey}`;
    return { kind: 'exact', value, ipKey, key, source: value };
  }
  return { kind: 'exact', value, ipKey: undefined, key: `l:${String(value)}`, source: value };
}
