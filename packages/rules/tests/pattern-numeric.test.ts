import { describe, expect, it } from 'vitest';
import { type CloudEventLike, compilePattern } from '../src/index.js';

const matches = (pattern: unknown, event: CloudEventLike): boolean => compilePattern(pattern).matches(event);
const on = (value: unknown): CloudEventLike => ({ data: { v: value } });
const numeric = (...expression: unknown[]) => ({ data: { v: [{ numeric: expression }] } });

describe('numeric', () => {
  it('compares with =, <, <=, >, >=', () => {
    expect(matches(numeric('=', 3.018e2), on(301.8))).toBe(true);
    expect(matches(numeric('=', 300), on(300.0))).toBe(true);
    expect(matches(numeric('=', 300), on(300.5))).toBe(false);
    expect(matches(numeric('<', 10), on(9.999999))).toBe(true);
    expect(matches(numeric('<', 10), on(10))).toBe(false);
    expect(matches(numeric('<=', 10), on(10))).toBe(true);
    expect(matches(numeric('>', 0), on(0))).toBe(false);
    expect(matches(numeric('>', 0), on(0.000001))).toBe(true);
    expect(matches(numeric('>=', 0), on(0))).toBe(true);
    expect(matches(numeric('>=', -5), on(-5.5))).toBe(false);
  });

  it('compares with ranges', () => {
    const range = numeric('>', 0, '<=', 5);
    expect(matches(range, on(0))).toBe(false);
    expect(matches(range, on(1))).toBe(true);
    expect(matches(range, on(5))).toBe(true);
    expect(matches(range, on(5.000001))).toBe(false);
    expect(matches(numeric('>=', 1, '<', 2), on(1))).toBe(true);
    expect(matches(numeric('>=', 1, '<', 2), on(2))).toBe(false);
  });

  it('only applies to JSON numbers', () => {
    expect(matches(numeric('>', 0), on('5'))).toBe(false);
    expect(matches(numeric('>', 0), on(true))).toBe(false);
    expect(matches(numeric('>', 0), on(null))).toBe(false);
    expect(matches(numeric('>', 0), {})).toBe(false);
  });

  it('matches when any element of an event array is in range', () => {
    expect(matches(numeric('>', 10), on([1, 2, 30]))).toBe(true);
    expect(matches(numeric('>', 10), on([1, 2, 3]))).toBe(false);
  });

  it('ignores event numbers outside -5e9..5e9 or with more than 6 decimals (event-ruler ComparableNumber)', () => {
    expect(matches(numeric('>', 0), on(5e9))).toBe(true);
    expect(matches(numeric('>', 0), on(5e9 + 1))).toBe(false);
    expect(matches(numeric('<', 0), on(-6e9))).toBe(false);
    expect(matches(numeric('>', 0), on(0.1234567))).toBe(false);
    expect(matches(numeric('>', 0), on(0.123456))).toBe(true);
  });

  it('still matches such numbers exactly by value', () => {
    expect(matches({ data: { v: [123456789012] } }, on(123456789012))).toBe(true);
    expect(matches({ data: { v: [0.1234567] } }, on(0.1234567))).toBe(true);
  });
});
