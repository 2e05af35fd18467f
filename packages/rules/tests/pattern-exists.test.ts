import { describe, expect, it } from 'vitest';
import { type CloudEventLike, compilePattern } from '../src/index.js';

const matches = (pattern: unknown, event: CloudEventLike): boolean => compilePattern(pattern).matches(event);
const exists = (flag: boolean) => ({ data: { v: [{ exists: flag }] } });

describe('exists (leaf values only, as in event-ruler)', () => {
  const cases: [string, CloudEventLike, boolean][] = [
    ['a string', { data: { v: 'x' } }, true],
    ['the empty string', { data: { v: '' } }, true],
    ['a number', { data: { v: 0 } }, true],
    ['false', { data: { v: false } }, true],
    ['null (a leaf value)', { data: { v: null } }, true],
    ['an array of values', { data: { v: [1] } }, true],
    ['an array holding null', { data: { v: [null] } }, true],
    ['a missing field', { data: {} }, false],
    ['a missing parent', {}, false],
    ['an empty array (no leaf)', { data: { v: [] } }, false],
    ['an object (not a leaf)', { data: { v: { w: 1 } } }, false],
    ['an empty object', { data: { v: {} } }, false],
    ['undefined', { data: { v: undefined } }, false],
  ];

  for (const [name, event, present] of cases) {
    it(`treats ${name} as ${present ? 'present' : 'absent'}`, () => {
      expect(matches(exists(true), event)).toBe(present);
      expect(matches(exists(false), event)).toBe(!present);
    });
  }

  it('combines with other conditions', () => {
    const pattern = { type: ['t'], data: { v: [{ exists: false }] } };
    expect(matches(pattern, { type: 't', data: {} })).toBe(true);
    expect(matches(pattern, { type: 'u', data: {} })).toBe(false);
    expect(matches(pattern, { type: 't', data: { v: null } })).toBe(false);
  });

  it('can be ORed with values in one leaf', () => {
    const pattern = { data: { v: [{ exists: false }, 'x'] } };
    expect(matches(pattern, { data: {} })).toBe(true);
    expect(matches(pattern, { data: { v: 'x' } })).toBe(true);
    expect(matches(pattern, { data: { v: 'y' } })).toBe(false);
  });

  it('matches every event when only exists: false is asked of an absent field', () => {
    expect(matches({ nope: [{ exists: false }] }, {})).toBe(true);
  });
});
