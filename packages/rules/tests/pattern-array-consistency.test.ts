import { describe, expect, it } from 'vitest';
import { type CloudEventLike, compileMatcher, compilePattern } from '../src/index.js';

const matches = (pattern: unknown, event: CloudEventLike): boolean => compilePattern(pattern).matches(event);

// event-ruler's rulesForJSONEvent: no match may take two fields from objects in different
// elements of the same array.
describe('array consistency', () => {
  const employees: CloudEventLike = {
    data: {
      employees: [
        { first: 'John', last: 'Doe' },
        { first: 'Anna', last: 'Smith' },
        { first: 'Peter', last: 'Jones' },
      ],
    },
  };

  it('matches fields of one array element', () => {
    expect(matches({ data: { employees: { first: ['Anna'], last: ['Smith'] } } }, employees)).toBe(true);
  });

  it('refuses fields taken from different elements of the same array', () => {
    expect(matches({ data: { employees: { first: ['Anna'], last: ['Jones'] } } }, employees)).toBe(false);
  });

  it('tries every element, whatever order the conditions are checked in', () => {
    const pattern = { data: { employees: { first: [{ prefix: '' }], last: ['Jones'] } } };
    expect(matches(pattern, employees)).toBe(true);
  });

  it('applies across nesting levels of multi-level arrays', () => {
    const nested: CloudEventLike = {
      data: {
        employees: [
          [
            { first: 'John', last: 'Doe' },
            { first: 'Anna', last: 'Smith' },
          ],
          [{ first: 'Peter', last: 'Jones' }],
        ],
      },
    };
    expect(matches({ data: { employees: { first: ['Anna'], last: ['Smith'] } } }, nested)).toBe(true);
    expect(matches({ data: { employees: { first: ['John'], last: ['Jones'] } } }, nested)).toBe(false);
  });

  it('does not constrain a field outside the array', () => {
    const pattern = { type: ['t'], data: { employees: { first: ['Anna'], last: ['Smith'] } } };
    expect(matches(pattern, { type: 't', ...employees })).toBe(true);
  });

  it('judges exists: false against the element the other fields picked', () => {
    const items: CloudEventLike = { data: { items: [{ sku: 'a', gift: true }, { sku: 'b' }] } };
    expect(matches({ data: { items: { sku: ['b'], gift: [{ exists: false }] } } }, items)).toBe(true);
    expect(matches({ data: { items: { sku: ['a'], gift: [{ exists: false }] } } }, items)).toBe(false);
  });

  it('does not retry combinations of values outside shared arrays (no exponential search)', () => {
    const many = Array.from({ length: 2000 }, (_, i) => `v${i}`);
    const pattern = {
      data: { a: [{ prefix: 'v' }], b: [{ prefix: 'v' }], c: [{ prefix: 'v' }], d: [{ suffix: 'never' }] },
    };
    const event = { data: { a: many, b: many, c: many, d: 'x' } };
    expect(matches(pattern, event)).toBe(false);
    expect(compileMatcher([{ id: 'r', pattern }]).match(event)).toEqual([]);
  });

  it('lets values in different elements match different $or branches', () => {
    const pattern = { data: { items: { $or: [{ sku: ['a'] }, { qty: [5] }] } } };
    expect(
      matches(pattern, {
        data: {
          items: [
            { sku: 'x', qty: 1 },
            { sku: 'y', qty: 5 },
          ],
        },
      }),
    ).toBe(true);
  });
});
