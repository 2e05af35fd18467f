import { describe, expect, it } from 'vitest';
import { type CloudEventLike, compilePattern } from '../src/index.js';

const matches = (pattern: unknown, event: CloudEventLike): boolean => compilePattern(pattern).matches(event);
const on = (value: unknown): CloudEventLike => ({ data: { v: value } });
const leaf = (...values: unknown[]) => ({ data: { v: values } });

describe('prefix', () => {
  it('matches strings that start with the prefix', () => {
    expect(matches(leaf({ prefix: 'us-' }), on('us-east-1'))).toBe(true);
    expect(matches(leaf({ prefix: 'us-' }), on('eu-west-1'))).toBe(false);
    expect(matches(leaf({ prefix: 'us-' }), on('US-east-1'))).toBe(false);
  });

  it('only applies to strings', () => {
    expect(matches(leaf({ prefix: '1' }), on(123))).toBe(false);
    expect(matches(leaf({ prefix: 't' }), on(true))).toBe(false);
    expect(matches(leaf({ prefix: 'n' }), on(null))).toBe(false);
  });

  it('with an empty prefix matches every string', () => {
    expect(matches(leaf({ prefix: '' }), on(''))).toBe(true);
    expect(matches(leaf({ prefix: '' }), on(5))).toBe(false);
  });

  it('ignores case with {"equals-ignore-case": ...}', () => {
    const pattern = leaf({ prefix: { 'equals-ignore-case': 'EventB' } });
    expect(matches(pattern, on('eventbridge'))).toBe(true);
    expect(matches(pattern, on('EVENTBRIDGE'))).toBe(true);
    expect(matches(pattern, on('event'))).toBe(false);
  });
});

describe('suffix', () => {
  it('matches strings that end with the suffix', () => {
    expect(matches(leaf({ suffix: '.png' }), on('cat.png'))).toBe(true);
    expect(matches(leaf({ suffix: '.png' }), on('cat.PNG'))).toBe(false);
    expect(matches(leaf({ suffix: '5' }), on(15))).toBe(false);
  });

  it('ignores case with {"equals-ignore-case": ...}', () => {
    const pattern = leaf({ suffix: { 'equals-ignore-case': '.png' } });
    expect(matches(pattern, on('cat.PNG'))).toBe(true);
    expect(matches(pattern, on('cat.Png'))).toBe(true);
    expect(matches(pattern, on('cat.jpg'))).toBe(false);
  });
});

describe('equals-ignore-case', () => {
  it('matches any casing of ASCII strings', () => {
    expect(matches(leaf({ 'equals-ignore-case': 'Alice' }), on('aLiCe'))).toBe(true);
    expect(matches(leaf({ 'equals-ignore-case': 'alice' }), on('alicia'))).toBe(false);
    expect(matches(leaf({ 'equals-ignore-case': '5' }), on(5))).toBe(false);
  });

  it('folds non-ASCII letters', () => {
    expect(matches(leaf({ 'equals-ignore-case': 'ÉCOLE' }), on('école'))).toBe(true);
    expect(matches(leaf({ 'equals-ignore-case': 'ЖУК' }), on('жук'))).toBe(true);
    expect(matches(leaf({ 'equals-ignore-case': 'οδος' }), on('ΟΔΟΣ'))).toBe(true);
  });

  // event-ruler: each pattern character matches its own lower- or upper-case form, nothing else.
  it('lets a pattern character match its lower or upper form only, like event-ruler', () => {
    expect(matches(leaf({ 'equals-ignore-case': 'Straße' }), on('STRASSE'))).toBe(true);
    expect(matches(leaf({ 'equals-ignore-case': 'STRASSE' }), on('straße'))).toBe(false);
    expect(matches(leaf({ 'equals-ignore-case': 'ẞ' }), on('ß'))).toBe(true);
    expect(matches(leaf({ 'equals-ignore-case': 'İ' }), on('i̇'))).toBe(true);
    expect(matches(leaf({ 'equals-ignore-case': 'İ' }), on('i'))).toBe(false);
    expect(matches(leaf({ 'equals-ignore-case': 'I' }), on('ı'))).toBe(false);
    expect(matches(leaf({ 'equals-ignore-case': 'k' }), on('\u212a'))).toBe(false);
  });

  it('applies the same rules to prefix and suffix with equals-ignore-case', () => {
    expect(matches(leaf({ prefix: { 'equals-ignore-case': 'straß' } }), on('STRASSE 5'))).toBe(true);
    expect(matches(leaf({ suffix: { 'equals-ignore-case': 'ße' } }), on('STRASSE'))).toBe(true);
    expect(matches(leaf({ suffix: { 'equals-ignore-case': 'SE' } }), on('straße'))).toBe(false);
  });
});

describe('wildcard', () => {
  it('matches any run of characters with *', () => {
    const pattern = leaf({ wildcard: 'arn:aws:s3:::*/lib/*.js' });
    expect(matches(pattern, on('arn:aws:s3:::bucket/lib/index.js'))).toBe(true);
    expect(matches(pattern, on('arn:aws:s3:::bucket/src/index.js'))).toBe(false);
    expect(matches(leaf({ wildcard: '*' }), on(''))).toBe(true);
    expect(matches(leaf({ wildcard: 'a*' }), on('a'))).toBe(true);
    expect(matches(leaf({ wildcard: '*a*b*' }), on('xxaxxbxx'))).toBe(true);
    expect(matches(leaf({ wildcard: '*a*b*' }), on('xxbxxaxx'))).toBe(false);
    expect(matches(leaf({ wildcard: 'ab*ba' }), on('aba'))).toBe(false);
  });

  it('is an exact match without *', () => {
    expect(matches(leaf({ wildcard: 'abc' }), on('abc'))).toBe(true);
    expect(matches(leaf({ wildcard: 'abc' }), on('abcd'))).toBe(false);
  });

  it('treats \\* as a literal star and \\\\ as a literal backslash', () => {
    expect(matches(leaf({ wildcard: 'a\\*b' }), on('a*b'))).toBe(true);
    expect(matches(leaf({ wildcard: 'a\\*b' }), on('axb'))).toBe(false);
    expect(matches(leaf({ wildcard: 'a\\\\*' }), on('a\\anything'))).toBe(true);
    expect(matches(leaf({ wildcard: 'a\\\\*' }), on('ab'))).toBe(false);
  });

  it('only applies to strings', () => {
    expect(matches(leaf({ wildcard: '*' }), on(1))).toBe(false);
    expect(matches(leaf({ wildcard: '*' }), on(null))).toBe(false);
  });
});
