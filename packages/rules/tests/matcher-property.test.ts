import { seededRandom } from '@fuze/test/harness';
import { describe, expect, it } from 'vitest';
import { type CloudEventLike, compileMatcher, compilePattern } from '../src/index.js';

type Random = () => number;
const pick = <T>(rnd: Random, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
const some = <T>(rnd: Random, list: readonly T[], max: number): T[] =>
  Array.from({ length: 1 + Math.floor(rnd() * max) }, () => pick(rnd, list));

// Small vocabularies, so that patterns and events meet often.
const strings = [
  'a',
  'ab',
  'abc',
  'b',
  'B',
  'ba',
  'x*y',
  'xzy',
  'ß',
  'SS',
  'ss',
  'é',
  'É',
  '',
  '10.0.0.1',
  '10.9.0.1',
  '::1',
  '2001:db8::5',
];
const numbers = [0, 1, 1.5, 3, 3.0, 300, -2, 5e9, 6e9, 0.1234567, 42];
const scalars: unknown[] = [...strings, ...numbers, true, false, null];

function valueTest(rnd: Random): unknown {
  switch (Math.floor(rnd() * 14)) {
    case 0:
      return { prefix: pick(rnd, ['a', 'A', 'x', '', '10.']) };
    case 1:
      return { suffix: pick(rnd, ['b', 'y', 'SS', 'c']) };
    case 2:
      return { 'equals-ignore-case': pick(rnd, ['AB', 'ß', 'ss', 'É', 'b']) };
    case 3:
      return {
        [pick(rnd, ['prefix', 'suffix'])]: { 'equals-ignore-case': pick(rnd, ['A', 'ß', 'S', 'É', 'b']) },
      };
    case 4:
      return { wildcard: pick(rnd, ['a*', '*b', '*', 'a*c', 'x\\*y', '*a*b*', 'x*y']) };
    case 5: {
      const anythingBut = pick(rnd, [
        pick(rnd, strings),
        pick(rnd, [1, 3, 300]),
        ['a', 'b'],
        [0, 42],
        { prefix: pick(rnd, ['a', 'x']) },
        { suffix: ['b', 'y'] },
        { 'equals-ignore-case': ['AB', 'ss'] },
        { wildcard: '*b*' },
      ]);
      return { 'anything-but': anythingBut };
    }
    case 6: {
      const low = pick(rnd, [-5, 0, 1, 2.5]);
      return {
        numeric: pick(rnd, [
          ['>', low],
          ['>=', low, '<', low + pick(rnd, [1, 10, 500])],
          ['<=', pick(rnd, [0, 3, 300])],
          ['=', pick(rnd, [3, 42, 300])],
        ]),
      };
    }
    case 7:
      return { exists: rnd() < 0.5 };
    case 8:
      return { cidr: pick(rnd, ['10.0.0.0/8', '10.0.0.0/24', '::/0', '2001:db8::/32']) };
    default:
      return pick(rnd, scalars);
  }
}

const leaf = (rnd: Random): unknown[] =>
  Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => valueTest(rnd));

/** Fields of an object of the pattern; `keys` are drawn without repetition. */
function fields(rnd: Random, keys: readonly string[], count: number, depth: number): Record<string, unknown> {
  const chosen = [...keys].sort(() => rnd() - 0.5).slice(0, count);
  const object: Record<string, unknown> = {};
  for (const key of chosen) {
    if (key === 'items' && depth < 2)
      object[key] = fields(rnd, ['sku', 'qty', 'tag'], 1 + Math.floor(rnd() * 2), depth + 1);
    else if (key === 'data' && depth < 1)
      object[key] = fields(rnd, ['a', 'n', 'items', 'ip', 'flag'], 1 + Math.floor(rnd() * 3), depth + 1);
    else object[key] = leaf(rnd);
  }
  return object;
}

function pattern(rnd: Random): unknown {
  const shape = rnd();
  if (shape < 0.05) return {};
  const base = fields(rnd, ['type', 'source', 'data'], 1 + Math.floor(rnd() * 2), 0);
  if (shape < 0.7) return base;
  // $or, at the top or inside data, with branches over other keys than the base (may still clash: then skipped).
  const branches = Array.from({ length: 2 + Math.floor(rnd() * 2) }, () =>
    fields(rnd, ['subject', 'kind', 'data'], 1, 0),
  );
  return { ...base, $or: branches };
}

function eventValue(rnd: Random): unknown {
  const r = rnd();
  if (r < 0.15) return some(rnd, scalars, 3);
  if (r < 0.18) return [];
  return pick(rnd, scalars);
}

function event(rnd: Random): CloudEventLike {
  const data: Record<string, unknown> = {};
  for (const key of ['a', 'n', 'ip', 'flag']) if (rnd() < 0.6) data[key] = eventValue(rnd);
  if (rnd() < 0.6) {
    data['items'] = Array.from({ length: Math.floor(rnd() * 4) }, () => {
      const item: Record<string, unknown> = {};
      for (const key of ['sku', 'qty', 'tag']) if (rnd() < 0.7) item[key] = eventValue(rnd);
      return item;
    });
  }
  const result: Record<string, unknown> = { data };
  for (const key of ['type', 'source', 'subject', 'kind']) if (rnd() < 0.7) result[key] = eventValue(rnd);
  if (rnd() < 0.05) result['data'] = pick(rnd, strings);
  return result;
}

/**
 * Builds `ruleCount` valid random rules, then checks 400 random events: the matcher finds exactly
 * the rules whose own compiled pattern matches, and matchJson of the event's text what match of
 * its parse finds.
 */
function expectAgreement(
  rnd: Random,
  ruleCount: number,
  makePattern: (rnd: Random) => unknown,
  makeEvent: (rnd: Random) => CloudEventLike,
): void {
  const rules: { id: string; pattern: unknown; compiled: ReturnType<typeof compilePattern> }[] = [];
  while (rules.length < ruleCount) {
    const candidate = makePattern(rnd);
    try {
      rules.push({ id: `r${rules.length}`, pattern: candidate, compiled: compilePattern(candidate) });
    } catch {
      // An invalid combination (e.g. a field constrained twice): compileMatcher would reject it too.
    }
  }
  const matcher = compileMatcher(rules);
  let matchedSomething = 0;
  for (let i = 0; i < 400; i++) {
    const e = makeEvent(rnd);
    const expected = rules.filter((rule) => rule.compiled.matches(e)).map((rule) => rule.id);
    const actual = matcher.match(e);
    if (actual.length > 0) matchedSomething++;
    expect(actual, JSON.stringify(e)).toEqual(expected);
    const text = JSON.stringify(e);
    expect(matcher.matchJson(text), text).toEqual(matcher.match(JSON.parse(text)));
  }
  // The generators must produce matches, or the comparison proves little.
  expect(matchedSomething).toBeGreaterThan(100);
}

describe('compileMatcher agrees with compilePattern', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`on random rules and events (seed ${seed})`, () => {
      expectAgreement(seededRandom(seed), 150, pattern, event);
    });
  }
});

/**
 * Rules over many distinct fields give states with more edges than GUIDED_MIN_EDGES, which the
 * matcher walks by the event's present fields: the same answers are expected.
 */
describe('compileMatcher agrees with compilePattern on rules over many distinct fields', () => {
  const topKeys = [...Array.from({ length: 12 }, (_, i) => `g${i}`), 'constructor', 'toString'];
  const dataKeys = Array.from({ length: 30 }, (_, i) => `f${i}`);
  const itemKeys = Array.from({ length: 10 }, (_, i) => `i${i}`);

  function manyFieldPattern(rnd: Random): unknown {
    const result: Record<string, unknown> = {};
    const conditions = 1 + Math.floor(rnd() * 3);
    for (let n = 0; n < conditions; n++) {
      const where = rnd();
      if (where < 0.3) result[pick(rnd, topKeys)] = leaf(rnd);
      else {
        result['data'] ??= {};
        const data = result['data'] as Record<string, unknown>;
        if (where < 0.8) data[pick(rnd, dataKeys)] = leaf(rnd);
        else {
          data['items'] ??= {};
          const items = data['items'] as Record<string, unknown>;
          items[pick(rnd, itemKeys)] = leaf(rnd);
        }
      }
    }
    return result;
  }

  /** A class instance: fields read through the prototype too, as EventFields reads them. */
  class EventObject {
    get g0(): unknown {
      return 'a';
    }
  }

  function manyFieldEvent(rnd: Random): CloudEventLike {
    const data: Record<string, unknown> = {};
    for (const key of dataKeys) if (rnd() < 0.2) data[key] = eventValue(rnd);
    if (rnd() < 0.5) {
      data['items'] = Array.from({ length: Math.floor(rnd() * 3) }, () => {
        const item: Record<string, unknown> = {};
        for (const key of itemKeys) if (rnd() < 0.3) item[key] = eventValue(rnd);
        return item;
      });
    }
    const shape = rnd();
    const result: Record<string, unknown> =
      shape < 0.1
        ? (new EventObject() as unknown as Record<string, unknown>)
        : shape < 0.2
          ? Object.create(null)
          : {};
    for (const key of topKeys) {
      if (rnd() < 0.15 && !(key === 'g0' && result instanceof EventObject)) result[key] = eventValue(rnd);
    }
    if (rnd() < 0.1) result['data'] = { nested: { deeper: [data] } };
    else if (rnd() < 0.05) result['data'] = [data, data];
    else result['data'] = data;
    return result;
  }

  for (const seed of [11, 12, 13, 14, 15, 16]) {
    it(`on random rules and events (seed ${seed})`, () => {
      expectAgreement(seededRandom(seed), 300, manyFieldPattern, manyFieldEvent);
    });
  }
});
