import { seededRandom } from '@fuze/test/harness';
import { describe, expect, it } from 'vitest';
import { compileMatcher, compilePattern } from '../src/index.js';
import { SelectiveJsonReader, SelectiveReadError } from '../src/matcher/selective-json.js';
import { FieldPaths } from '../src/pattern/field-paths.js';

type Random = () => number;
const pick = <T>(rnd: Random, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
const keys = ['a', 'b', 'data', 'x', '__proto__', 'constructor', 'k"q', 'é', 'sp ace'];
const strings = ['', 'plain', 'with "quotes"', 'back\\slash', 'brackets [ { } ]', 'ünï\u2028', '\\"', 'a\nb'];
const numbers = [0, -1, 1.5, 1e21, -2.5e-7, 123456.789, 42];

function value(rnd: Random, depth: number): unknown {
  const roll = rnd();
  if (depth < 4 && roll < 0.25) {
    const object: Record<string, unknown> = {};
    for (let n = Math.floor(rnd() * 4); n > 0; n--) {
      Object.defineProperty(object, pick(rnd, keys), {
        value: value(rnd, depth + 1),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
    return object;
  }
  if (depth < 4 && roll < 0.4)
    return Array.from({ length: Math.floor(rnd() * 4) }, () => value(rnd, depth + 1));
  if (roll < 0.65) return pick(rnd, strings);
  if (roll < 0.85) return pick(rnd, numbers);
  return pick(rnd, [true, false, null]);
}

/** JSON.parse's answer cut down to the paths: what the selective reader must return. */
function project(parsed: unknown, paths: readonly (readonly string[])[], depth: number): unknown {
  if (Array.isArray(parsed)) return parsed.map((element) => project(element, paths, depth));
  if (typeof parsed !== 'object' || parsed === null) return parsed;
  const result: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(parsed)) {
    const below = paths.filter((path) => path.length > depth && path[depth] === key);
    if (below.length > 0) result[key] = project((parsed as Record<string, unknown>)[key], below, depth + 1);
  }
  return result;
}

describe('SelectiveJsonReader agrees with JSON.parse', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`on random documents and paths (seed ${seed})`, () => {
      const rnd = seededRandom(seed);
      for (let i = 0; i < 300; i++) {
        const paths = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () =>
          Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(rnd, keys)),
        );
        const fieldPaths = new FieldPaths();
        for (const path of paths) fieldPaths.idOf(path);
        const document = { ...(value(rnd, 0) as object), type: 'x' };
        const text = rnd() < 0.5 ? JSON.stringify(document) : JSON.stringify(document, null, 2);
        const read = new SelectiveJsonReader(fieldPaths).read(text);
        // Compared as JSON: an own `constructor` key defeats the equality's type check.
        expect(JSON.stringify(read), text).toBe(JSON.stringify(project(JSON.parse(text), paths, 0)));
        expect(Object.getPrototypeOf(read)).toBeNull();
      }
    });
  }

  it('leaves an object that repeats a looked-at key to JSON.parse, and steps over other repeats', () => {
    const paths = new FieldPaths();
    paths.idOf(['a']);
    expect(() => new SelectiveJsonReader(paths).read('{"a": 1, "b": [2], "a": "last"}')).toThrow(
      SelectiveReadError,
    );
    expect(new SelectiveJsonReader(paths).read('{"b": 1, "a": "x", "b": [2]}')).toStrictEqual(
      Object.assign(Object.create(null), { a: 'x' }),
    );
  });

  it('matchJson over a state with many fields (walked by the present paths the reader marks) answers as match does, repeated keys included', () => {
    const rules = [
      { id: 'f0-absent', pattern: { f0: [{ exists: false }] } },
      { id: 'f1-v', pattern: { f1: ['v'] } },
      { id: 'f2-number', pattern: { f2: [{ numeric: ['>', 1] }] } },
      ...Array.from({ length: 12 }, (_, i) => ({ id: `g${i}`, pattern: { [`g${i}`]: [{ exists: true }] } })),
    ];
    const matcher = compileMatcher(rules);
    const texts = [
      '{"f0": "x", "f0": {"inner": 1}, "f1": {"a": 1}, "f1": "v", "f2": [0, [2]]}',
      '{"f0": {"inner": 1}, "f0": null, "f1": "v", "f1": {"a": 1}, "g3": true, "g4": {}}',
      '{"g0": [], "g1": [[]], "g2": [{}], "g5": [null], "f2": 3, "g6": "x", "g6": {"inner": 1}}',
    ];
    const answers = texts.map((text) => matcher.matchJson(text));
    for (const [i, text] of texts.entries())
      expect(answers[i], text).toEqual(matcher.match(JSON.parse(text)));
    expect(answers).toEqual([['f0-absent', 'f1-v', 'f2-number'], ['g3'], ['f0-absent', 'f2-number', 'g5']]);
  });

  it('matchJson answers what JSON.parse then match answers, and JSON.parse errors for what is not JSON', () => {
    const rules = [
      { id: 'street', pattern: { data: { properties: { STREET: [{ prefix: 'MA' }] } } } },
      { id: 'quoted', pattern: { data: { note: ['say "hi"'] } } },
      { id: 'absent', pattern: { data: { missing: [{ exists: false }] } } },
      { id: 'proto', pattern: JSON.parse('{"data": {"__proto__": ["p"]}}') },
    ];
    for (const rule of rules) compilePattern(rule.pattern);
    const matcher = compileMatcher(rules);
    const texts = [
      '{"data": {"properties": {"STREET": "MARKET", "skip": [[1, 2, {"}": "]"}]]}, "note": "say \\"hi\\""}}',
      '{"data": {"__proto__": "p", "missing": {}}}',
      '{"data": {"missing": null}}',
      '["not", "an", "object"]',
    ];
    for (const text of texts) expect(matcher.matchJson(text), text).toEqual(matcher.match(JSON.parse(text)));
    for (const bad of ['not json', '{"data": {"properties": ', '{"a" 1}', '{"data": tru}']) {
      expect(() => matcher.matchJson(bad), bad).toThrow(SyntaxError);
    }
  });
});
