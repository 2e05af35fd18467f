import { describe, expect, it } from 'vitest';
import { compileMatcher, compilePattern, InvalidPatternError } from '../src/index.js';

function rejection(pattern: unknown, options?: Parameters<typeof compilePattern>[1]): InvalidPatternError {
  try {
    compilePattern(pattern, options);
  } catch (err) {
    if (err instanceof InvalidPatternError) return err;
    throw err;
  }
  throw new Error(`pattern was accepted: ${JSON.stringify(pattern)}`);
}

/** [what, pattern, JSON path of the problem, fragment of the message]. */
// biome-ignore format: a table reads best one case per line
const invalid: [string, unknown, string, string][] = [
  // Structure
  ['an array pattern', [], '$', 'must be a JSON object'],
  ['a string pattern', 'type', '$', 'must be a JSON object'],
  ['a null pattern', null, '$', 'must be a JSON object'],
  ['a leaf that is not an array', { source: 'aws.ec2' }, '$.source', 'leaf values go in an array: ["aws.ec2"]'],
  ['a numeric leaf', { data: { total: 5 } }, '$.data.total', 'must be an object or an array'],
  ['an undefined leaf', { source: undefined }, '$.source', 'got undefined'],
  ['an empty leaf array', { source: [] }, '$.source', 'must not be empty'],
  ['an empty nested object', { data: {} }, '$.data', 'empty objects are not allowed'],
  ['a nested array in a leaf', { source: [['a']] }, '$.source[0]', 'got an array'],
  ['a non-finite number', { n: [Number.POSITIVE_INFINITY] }, '$.n[0]', 'not a JSON number'],
  ['a key with a dash', { 'detail-type': 'x' }, "$['detail-type']", 'must be an object or an array'],
  // Operator objects
  ['an unknown operator', { source: [{ contains: 'x' }] }, '$.source[0].contains', 'unknown operator "contains"'],
  ['a miscased operator', { source: [{ Prefix: 'x' }] }, '$.source[0].Prefix', 'did you mean "prefix"'],
  ['an operator object with two keys', { source: [{ prefix: 'a', suffix: 'b' }] }, '$.source[0]', 'only one is allowed'],
  ['an empty operator object', { source: [{}] }, '$.source[0]', 'needs exactly one operator'],
  // prefix / suffix / equals-ignore-case
  ['a numeric prefix', { source: [{ prefix: 5 }] }, '$.source[0].prefix', 'must be a string'],
  ['a prefix list', { source: [{ prefix: ['a'] }] }, '$.source[0].prefix', 'must be a string'],
  ['another operator inside prefix', { source: [{ prefix: { suffix: 'a' } }] }, '$.source[0].prefix.suffix', 'only "equals-ignore-case"'],
  ['a numeric prefix ignoring case', { source: [{ prefix: { 'equals-ignore-case': 1 } }] }, "$.source[0].prefix['equals-ignore-case']", 'must be a string'],
  ['a null suffix', { source: [{ suffix: null }] }, '$.source[0].suffix', 'must be a string'],
  ['a numeric equals-ignore-case', { source: [{ 'equals-ignore-case': 1 }] }, "$.source[0]['equals-ignore-case']", 'must be a string'],
  // wildcard
  ['a numeric wildcard', { source: [{ wildcard: 1 }] }, '$.source[0].wildcard', 'must be a string'],
  ['consecutive wildcards', { source: [{ wildcard: 'a**b' }] }, '$.source[0].wildcard', 'consecutive wildcard'],
  ['an invalid escape', { source: [{ wildcard: 'a\\b' }] }, '$.source[0].wildcard', 'invalid escape'],
  ['a trailing backslash', { source: [{ wildcard: 'a\\' }] }, '$.source[0].wildcard', 'invalid escape'],
  // anything-but
  ['anything-but null', { s: [{ 'anything-but': null }] }, "$.s[0]['anything-but']", 'must be a string, a number'],
  ['anything-but true', { s: [{ 'anything-but': true }] }, "$.s[0]['anything-but']", 'must be a string, a number'],
  ['an empty anything-but list', { s: [{ 'anything-but': [] }] }, "$.s[0]['anything-but']", 'must not be empty'],
  ['a mixed anything-but list', { s: [{ 'anything-but': ['a', 1] }] }, "$.s[0]['anything-but'][1]", 'mixes strings and numbers'],
  ['a boolean in an anything-but list', { s: [{ 'anything-but': [true] }] }, "$.s[0]['anything-but'][0]", 'got a boolean'],
  ['anything-but out of range', { s: [{ 'anything-but': 6e9 }] }, "$.s[0]['anything-but']", 'outside the supported range'],
  ['anything-but with 7 decimals', { s: [{ 'anything-but': [1.1234567] }] }, "$.s[0]['anything-but'][0]", 'more than 6 decimal'],
  ['an empty anything-but prefix', { s: [{ 'anything-but': { prefix: '' } }] }, "$.s[0]['anything-but'].prefix", 'must not be empty'],
  ['an empty anything-but suffix', { s: [{ 'anything-but': { suffix: [''] } }] }, "$.s[0]['anything-but'].suffix[0]", 'must not be empty'],
  ['a numeric anything-but prefix', { s: [{ 'anything-but': { prefix: 5 } }] }, "$.s[0]['anything-but'].prefix", 'must be a string'],
  ['an empty anything-but prefix list', { s: [{ 'anything-but': { prefix: [] } }] }, "$.s[0]['anything-but'].prefix", 'must not be empty'],
  ['an unknown anything-but operator', { s: [{ 'anything-but': { numeric: ['>', 1] } }] }, "$.s[0]['anything-but'].numeric", 'unsupported anything-but operator'],
  ['two anything-but operators', { s: [{ 'anything-but': { prefix: 'a', suffix: 'b' } }] }, "$.s[0]['anything-but']", 'only one is allowed'],
  ['an invalid anything-but wildcard', { s: [{ 'anything-but': { wildcard: ['*', 'a**'] } }] }, "$.s[0]['anything-but'].wildcard[1]", 'consecutive'],
  ['a numeric anything-but ignoring case', { s: [{ 'anything-but': { 'equals-ignore-case': [1] } }] }, "$.s[0]['anything-but']['equals-ignore-case'][0]", 'must be a string'],
  // numeric
  ['numeric not an array', { n: [{ numeric: '>' }] }, '$.n[0].numeric', 'must be an array'],
  ['an empty numeric', { n: [{ numeric: [] }] }, '$.n[0].numeric', 'must start with an operator'],
  ['numeric starting with a number', { n: [{ numeric: [5, '>'] }] }, '$.n[0].numeric[0]', 'must start with an operator'],
  ['an unknown numeric operator', { n: [{ numeric: ['!=', 5] }] }, '$.n[0].numeric[0]', 'unknown numeric operator'],
  ['a numeric operator with no value', { n: [{ numeric: ['>'] }] }, '$.n[0].numeric', 'needs a number'],
  ['a non-numeric bound', { n: [{ numeric: ['>', '5'] }] }, '$.n[0].numeric[1]', 'must be a number'],
  ['a range missing its upper value', { n: [{ numeric: ['>', 0, '<'] }] }, '$.n[0].numeric', 'needs a number'],
  ['a range in the wrong order', { n: [{ numeric: ['<', 5, '>', 0] }] }, '$.n[0].numeric', 'too many elements'],
  ['a range with two lower bounds', { n: [{ numeric: ['>', 0, '>', 5] }] }, '$.n[0].numeric[2]', 'must use "<" or "<="'],
  ['a range whose lower bound exceeds the upper', { n: [{ numeric: ['>', 5, '<', 1] }] }, '$.n[0].numeric', 'must be less than'],
  ['an empty closed range', { n: [{ numeric: ['>=', 5, '<=', 5] }] }, '$.n[0].numeric', 'must be less than'],
  ['too many numeric elements', { n: [{ numeric: ['>', 0, '<', 5, 6] }] }, '$.n[0].numeric', 'too many elements'],
  ['"=" with two values', { n: [{ numeric: ['=', 1, 2] }] }, '$.n[0].numeric', 'too many elements'],
  ['a bound above 5e9', { n: [{ numeric: ['<', 6e9] }] }, '$.n[0].numeric[1]', 'outside the supported range'],
  ['a bound below -5e9', { n: [{ numeric: ['>', -5000000001] }] }, '$.n[0].numeric[1]', 'outside the supported range'],
  ['a bound with 7 decimals', { n: [{ numeric: ['=', 0.1234567] }] }, '$.n[0].numeric[1]', 'more than 6 decimal'],
  ['"> 5e9", which nothing satisfies', { n: [{ numeric: ['>', 5e9] }] }, '$.n[0].numeric', 'must be less than'],
  ['"< -5e9", which nothing satisfies', { n: [{ numeric: ['<', -5e9] }] }, '$.n[0].numeric', 'must be greater than -5e9'],
  // exists
  ['exists "true"', { e: [{ exists: 'true' }] }, '$.e[0].exists', 'must be true or false'],
  ['exists 1', { e: [{ exists: 1 }] }, '$.e[0].exists', 'must be true or false'],
  // cidr
  ['a numeric cidr', { ip: [{ cidr: 10 }] }, '$.ip[0].cidr', 'must be a string'],
  ['a cidr without a mask', { ip: [{ cidr: '10.0.0.0' }] }, '$.ip[0].cidr', 'exactly one "/"'],
  ['a cidr with two masks', { ip: [{ cidr: '10.0.0.0/8/9' }] }, '$.ip[0].cidr', 'exactly one "/"'],
  ['a cidr with a bad address', { ip: [{ cidr: '300.0.0.0/8' }] }, '$.ip[0].cidr', 'invalid IP address'],
  ['a cidr with a hostname', { ip: [{ cidr: 'example.com/8' }] }, '$.ip[0].cidr', 'invalid IP address'],
  ['a cidr with a negative mask', { ip: [{ cidr: '10.0.0.0/-1' }] }, '$.ip[0].cidr', 'non-negative integer'],
  ['an IPv4 mask of 33', { ip: [{ cidr: '10.0.0.0/33' }] }, '$.ip[0].cidr', 'mask bits must be < 32'],
  ['an IPv4 mask of 32 (event-ruler: use the address)', { ip: [{ cidr: '10.0.0.1/32' }] }, '$.ip[0].cidr', '< 32'],
  ['an IPv6 mask of 128', { ip: [{ cidr: '::1/128' }] }, '$.ip[0].cidr', 'mask bits must be < 128'],
  ['a malformed IPv6 block', { ip: [{ cidr: '1:::2/64' }] }, '$.ip[0].cidr', 'invalid IP address'],
  // $or
  ['$or that is an object', { $or: { a: [1] } }, '$.$or', 'must be an array'],
  ['$or with one branch', { $or: [{ a: [1] }] }, '$.$or', 'at least 2 objects'],
  ['an empty $or', { $or: [] }, '$.$or', 'at least 2 objects'],
  ['$or with a non-object', { $or: [{ a: [1] }, ['b']] }, '$.$or[1]', 'may only contain objects'],
  ['$or with an empty branch', { $or: [{ a: [1] }, {}] }, '$.$or[1]', 'empty objects'],
  ['a reserved word as a field inside $or', { $or: [{ prefix: ['x'] }, { a: [1] }] }, '$.$or[0].prefix', 'reserved word'],
  ['a reserved word deeper inside $or', { $or: [{ a: { numeric: [1] } }, { b: [1] }] }, '$.$or[0].a.numeric', 'reserved word'],
  ['a field constrained twice through $or', { a: [1], $or: [{ a: [2] }, { b: [1] }] }, '$.$or[0].a', 'already matched at $.a'],
];

describe('invalid patterns', () => {
  for (const [what, pattern, path, fragment] of invalid) {
    it(`rejects ${what}`, () => {
      const err = rejection(pattern);
      expect(err.code).toBe('FUZE_INVALID_PATTERN');
      expect(err.path).toBe(path);
      expect(err.message).toContain(path);
      expect(err.message).toContain(fragment);
    });
  }

  it('accepts reserved words as ordinary field names outside $or', () => {
    expect(
      compilePattern({ prefix: ['x'], numeric: { exists: [1] } }).matches({
        prefix: 'x',
        numeric: { exists: 1 },
      }),
    ).toBe(true);
  });

  it('rejects patterns longer than 2,048 characters of JSON, unless configured', () => {
    const long = { source: ['x'.repeat(2100)] };
    const err = rejection(long);
    expect(err.path).toBe('$');
    expect(err.message).toContain('the limit is 2048');
    expect(() => compilePattern(long, { maxPatternLength: 4096 })).not.toThrow();
  });

  it('rejects patterns expanding to more than 1,000 $or combinations, unless configured', () => {
    const fields = (count: number) =>
      Object.fromEntries(
        Array.from({ length: count }, (_, i) => [`f${i}`, { $or: [{ a: [1] }, { b: [2] }] }]),
      );
    expect(compilePattern(fields(9)).parsed.subRules).toHaveLength(512);
    const err = rejection(fields(10), { maxPatternLength: 10_000 });
    expect(err.message).toContain('expands to 1024 $or combinations; the limit is 1000');
    expect(() =>
      compilePattern(fields(10), { maxPatternLength: 10_000, maxOrCombinations: 1024 }),
    ).not.toThrow();
  });

  it('rejects values that are not JSON', () => {
    expect(rejection({ a: [{ numeric: ['>', 1n] }] }).message).toContain('not JSON');
  });

  it('names the rule when compiled through compileMatcher', () => {
    try {
      compileMatcher([
        { id: 'ok', pattern: { a: [1] } },
        { id: 'broken', pattern: { a: [{ prefix: 1 }] } },
      ]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidPatternError);
      const invalidError = err as InvalidPatternError;
      expect(invalidError.ruleId).toBe('broken');
      expect(invalidError.path).toBe('$.a[0].prefix');
      expect(invalidError.message).toMatch(/^rule "broken": invalid event pattern at \$\.a\[0\]\.prefix: /);
    }
  });
});
