import { expect, test } from 'vitest';
import { createAjv, linearRegExp } from '../src/index.js';

// The same answers as ajv with JavaScript's RegExp for the patterns data schemas commonly use.
const cases: Array<[string, string[]]> = [
  ['^[A-Z]{3}-\\d{4}$', ['ABC-1234', 'abc-1234', 'ABC-12345', '']],
  ['^\\S+@\\S+\\.\\w+$', ['a@b.co', 'a b@c.de', 'x@y']],
  ['colou?r', ['my color', 'colour!', 'colr']],
  ['^[\\p{L} ]+$', ['Zoë Ångström', 'R2D2']],
  ['^(a+)+$', ['aaaa', 'aaab', '']],
];

test.each(cases)('pattern %s: RE2 answers as RegExp does', (pattern, inputs) => {
  const schema = { type: 'string', pattern };
  const linear = createAjv({ regExp: linearRegExp }).compile(schema);
  const native = createAjv().compile(schema);
  for (const input of inputs) expect([input, linear(input)]).toEqual([input, native(input)]);
});

test('a backtracking bomb is answered at once', () => {
  const validate = createAjv({ regExp: linearRegExp }).compile({ type: 'string', pattern: '^(a+)+$' });
  expect(validate(`${'a'.repeat(5000)}!`)).toBe(false);
});
