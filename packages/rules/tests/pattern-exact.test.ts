import { describe, expect, it } from 'vitest';
import { type CloudEventLike, compilePattern } from '../src/index.js';

const matches = (pattern: unknown, event: CloudEventLike): boolean => compilePattern(pattern).matches(event);

describe('exact values', () => {
  const event = {
    type: 'com.shop.order.placed',
    source: 'shop',
    data: { total: 300, flag: true, off: false, nothing: null, empty: '', name: 'Ann' },
  };

  it('matches equal strings, case-sensitively', () => {
    expect(matches({ type: ['com.shop.order.placed'] }, event)).toBe(true);
    expect(matches({ type: ['com.shop.order.PLACED'] }, event)).toBe(false);
    expect(matches({ data: { name: ['ann'] } }, event)).toBe(false);
  });

  it('ORs the values of one leaf and ANDs the keys', () => {
    expect(matches({ type: ['x', 'com.shop.order.placed'] }, event)).toBe(true);
    expect(matches({ type: ['com.shop.order.placed'], source: ['shop'] }, event)).toBe(true);
    expect(matches({ type: ['com.shop.order.placed'], source: ['bank'] }, event)).toBe(false);
  });

  it('compares numbers by value: 300, 300.0 and 3e2 are equal', () => {
    expect(matches({ data: { total: [300] } }, event)).toBe(true);
    expect(matches({ data: { total: [300.0] } }, event)).toBe(true);
    expect(matches({ data: { total: [3e2] } }, event)).toBe(true);
    expect(matches({ data: { total: [300] } }, { data: { total: 3e2 } })).toBe(true);
    expect(matches({ data: { total: [301] } }, event)).toBe(false);
    expect(matches({ data: { zero: [0] } }, { data: { zero: -0 } })).toBe(true);
  });

  it('keeps types apart: "300" is not 300, "true" is not true', () => {
    expect(matches({ data: { total: ['300'] } }, event)).toBe(false);
    expect(matches({ data: { flag: ['true'] } }, event)).toBe(false);
    expect(matches({ data: { n: [5] } }, { data: { n: '5' } })).toBe(false);
  });

  it('matches booleans and null literally', () => {
    expect(matches({ data: { flag: [true] } }, event)).toBe(true);
    expect(matches({ data: { off: [false] } }, event)).toBe(true);
    expect(matches({ data: { flag: [false] } }, event)).toBe(false);
    expect(matches({ data: { nothing: [null] } }, event)).toBe(true);
  });

  it('does not confuse null, the empty string and a missing field', () => {
    expect(matches({ data: { empty: [''] } }, event)).toBe(true);
    expect(matches({ data: { empty: [null] } }, event)).toBe(false);
    expect(matches({ data: { nothing: [''] } }, event)).toBe(false);
    expect(matches({ data: { missing: [null] } }, event)).toBe(false);
    expect(matches({ data: { missing: [''] } }, event)).toBe(false);
  });

  it('matches when any element of an event array matches', () => {
    const withTags = { data: { tags: ['a', 'b', 'c'] } };
    expect(matches({ data: { tags: ['b'] } }, withTags)).toBe(true);
    expect(matches({ data: { tags: ['x', 'c'] } }, withTags)).toBe(true);
    expect(matches({ data: { tags: ['x'] } }, withTags)).toBe(false);
    expect(matches({ data: { tags: ['a'] } }, { data: { tags: [] } })).toBe(false);
  });

  it('crushes nested arrays and arrays of objects into the parent path', () => {
    expect(
      matches(
        { data: { m: [4] } },
        {
          data: {
            m: [
              [1, 2],
              [3, [4]],
            ],
          },
        },
      ),
    ).toBe(true);
    const employees = { data: { employees: [{ first: 'John' }, { first: 'Anna' }] } };
    expect(matches({ data: { employees: { first: ['Anna'] } } }, employees)).toBe(true);
    expect(matches({ data: { employees: { first: ['Zoe'] } } }, employees)).toBe(false);
  });

  it('never matches a leaf against an object in the event', () => {
    expect(matches({ data: ['x'] }, { data: { a: 'x' } })).toBe(false);
    expect(matches({ data: { a: ['x'] } }, { data: 'x' })).toBe(false);
  });

  it('matches non-JSON data given as a string', () => {
    expect(matches({ data: ['hello'] }, { data: 'hello' })).toBe(true);
  });

  it('matches CloudEvent extension attributes like any other key', () => {
    expect(matches({ tenant: ['acme'] }, { type: 't', tenant: 'acme' })).toBe(true);
  });

  it('treats a key containing dots as one key, not as nested keys', () => {
    expect(matches({ data: { 'k8s.io/app': ['web'] } }, { data: { 'k8s.io/app': 'web' } })).toBe(true);
    expect(matches({ data: { 'a.b': ['x'] } }, { data: { a: { b: 'x' } } })).toBe(false);
    expect(matches({ data: { a: { b: ['x'] } } }, { data: { 'a.b': 'x' } })).toBe(false);
  });

  it('never reads inherited properties', () => {
    expect(matches({ data: { constructor: { name: ['Object'] } } }, { data: {} })).toBe(false);
    expect(matches({ data: { toString: [{ exists: false }] } }, { data: {} })).toBe(true);
  });

  it('matches an IP literal by address, however the event writes it', () => {
    expect(matches({ data: { ip: ['::1'] } }, { data: { ip: '0:0:0:0:0:0:0:1' } })).toBe(true);
    expect(matches({ data: { ip: ['10.0.0.1'] } }, { data: { ip: '10.0.0.1' } })).toBe(true);
    expect(matches({ data: { ip: ['10.0.0.1'] } }, { data: { ip: '10.0.0.2' } })).toBe(false);
  });

  it('matches every event with the empty pattern', () => {
    expect(matches({}, {})).toBe(true);
    expect(matches({}, event)).toBe(true);
  });
});
