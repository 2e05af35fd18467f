import { describe, expect, it } from 'vitest';
import { type CloudEventLike, compilePattern } from '../src/index.js';

const matches = (pattern: unknown, event: CloudEventLike): boolean => compilePattern(pattern).matches(event);
const on = (value: unknown): CloudEventLike => ({ data: { v: value } });
const anythingBut = (argument: unknown) => ({ data: { v: [{ 'anything-but': argument }] } });

describe('anything-but', () => {
  it('excludes a single string or number', () => {
    expect(matches(anythingBut('initializing'), on('running'))).toBe(true);
    expect(matches(anythingBut('initializing'), on('initializing'))).toBe(false);
    expect(matches(anythingBut(123), on(124))).toBe(true);
    expect(matches(anythingBut(123), on(123))).toBe(false);
    expect(matches(anythingBut(123), on(123.0))).toBe(false);
  });

  it('excludes every value of a list', () => {
    expect(matches(anythingBut(['stopped', 'overloaded']), on('stopped'))).toBe(false);
    expect(matches(anythingBut(['stopped', 'overloaded']), on('running'))).toBe(true);
    expect(matches(anythingBut([100, 200, 300]), on(200))).toBe(false);
    expect(matches(anythingBut([100, 200, 300]), on(250))).toBe(true);
  });

  it('matches values the exclusion cannot apply to: other types, null, booleans', () => {
    expect(matches(anythingBut('5'), on(5))).toBe(true);
    expect(matches(anythingBut([5]), on('5'))).toBe(true);
    expect(matches(anythingBut('x'), on(null))).toBe(true);
    expect(matches(anythingBut('x'), on(true))).toBe(true);
  });

  it('does not match a missing field or an empty array (there is no value)', () => {
    expect(matches(anythingBut('x'), {})).toBe(false);
    expect(matches(anythingBut('x'), on([]))).toBe(false);
  });

  it('matches an event array when any element is not excluded', () => {
    expect(matches(anythingBut('a'), on(['a', 'b']))).toBe(true);
    expect(matches(anythingBut(['a', 'b']), on(['a', 'b']))).toBe(false);
  });

  it('excludes prefixes', () => {
    expect(matches(anythingBut({ prefix: 'us-' }), on('us-east-1'))).toBe(false);
    expect(matches(anythingBut({ prefix: 'us-' }), on('eu-west-1'))).toBe(true);
    expect(matches(anythingBut({ prefix: ['us-', 'eu-'] }), on('eu-west-1'))).toBe(false);
    expect(matches(anythingBut({ prefix: 'us-' }), on(5))).toBe(true);
  });

  it('excludes suffixes', () => {
    expect(matches(anythingBut({ suffix: '.png' }), on('a.png'))).toBe(false);
    expect(matches(anythingBut({ suffix: '.png' }), on('a.jpg'))).toBe(true);
    expect(matches(anythingBut({ suffix: ['.png', '.jpg'] }), on('a.jpg'))).toBe(false);
  });

  it('excludes values ignoring case, one string or a list', () => {
    expect(matches(anythingBut({ 'equals-ignore-case': 'Stopped' }), on('STOPPED'))).toBe(false);
    expect(matches(anythingBut({ 'equals-ignore-case': ['a', 'B'] }), on('b'))).toBe(false);
    expect(matches(anythingBut({ 'equals-ignore-case': ['a', 'B'] }), on('c'))).toBe(true);
    expect(matches(anythingBut({ 'equals-ignore-case': 'x' }), on(1))).toBe(true);
  });

  it('excludes wildcards', () => {
    expect(matches(anythingBut({ wildcard: '*/lib/*' }), on('src/lib/a.js'))).toBe(false);
    expect(matches(anythingBut({ wildcard: '*/lib/*' }), on('src/bin/a.js'))).toBe(true);
    expect(matches(anythingBut({ wildcard: ['*.png', '*.jpg'] }), on('a.jpg'))).toBe(false);
  });

  it('can sit next to other values in the leaf (OR)', () => {
    const pattern = { data: { v: [{ 'anything-but': ['a', 'b'] }, 'a'] } };
    expect(matches(pattern, on('a'))).toBe(true);
    expect(matches(pattern, on('b'))).toBe(false);
  });
});
