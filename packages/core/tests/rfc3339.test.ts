import { fullFormats } from 'ajv-formats/dist/formats.js';
import { describe, expect, test } from 'vitest';
import { assertValidCloudEvent } from '../src/index.js';
import { isRfc3339DateTime } from '../src/time/rfc3339.js';

// isRfc3339DateTime replaces ajv-formats' full `date-time` for speed; this suite holds it to the
// same answer on hand-picked edge cases and on random strings near the format.

const reference = fullFormats['date-time'] as { validate: (text: string) => boolean };

const cases: Array<[string, boolean]> = [
  ['2026-11-21T08:00:00Z', true],
  ['2026-11-21T08:00:00.123Z', true],
  ['2026-11-21t08:00:00z', true],
  ['2026-11-21 08:00:00Z', true],
  ['2026-11-21\t08:00:00Z', true],
  ['2026-11-21T08:00:00+01:00', true],
  ['2026-11-21T08:00:00-0130', true],
  ['2026-11-21T08:00:00+01', true],
  ['2026-11-21T08:00:00', false],
  ['2026-11-21T08:00:00+01:', false],
  ['2026-11-21T08:00:00+1:00', false],
  ['2026-11-21T08:00:00+24:00', false],
  ['2026-11-21T08:00:00+01:60', false],
  ['2026-11-21T08:00:00.Z', false],
  ['2026-11-21T08:00:00Z ', false],
  [' 2026-11-21T08:00:00Z', false],
  ['2026-11-21TT08:00:00Z', false],
  ['2026-11-21T08:00Z', false],
  ['2026-11-21T24:00:00Z', false],
  ['2026-11-21T23:60:00Z', false],
  ['2026-02-29T00:00:00Z', false],
  ['2024-02-29T00:00:00Z', true],
  ['2000-02-29T00:00:00Z', true],
  ['1900-02-29T00:00:00Z', false],
  ['2026-04-31T00:00:00Z', false],
  ['2026-13-01T00:00:00Z', false],
  ['2026-00-01T00:00:00Z', false],
  ['2026-01-00T00:00:00Z', false],
  ['2016-12-31T23:59:60Z', true],
  ['2016-12-31T23:59:60.5Z', true],
  ['2016-12-31T22:59:60-01:00', true],
  ['2017-01-01T00:59:60+01:00', true],
  ['2016-12-31T23:58:60Z', false],
  ['2016-12-31T23:59:61Z', false],
  ['２０２６-11-21T08:00:00Z', false],
  ['2026-11-21T08:00:00\u00a0Z', false],
  ['2026-11-21\u00a008:00:00Z', true],
];

describe('isRfc3339DateTime', () => {
  test.each(cases)('%j -> %s, as ajv-formats says', (text, expected) => {
    expect(reference.validate(text)).toBe(expected);
    expect(isRfc3339DateTime(text)).toBe(expected);
  });

  test('agrees with ajv-formats on 200,000 random near-misses', () => {
    // Start from valid timestamps and change, insert or drop a character or two.
    const alphabet = '0123456789:-+.TtZz \t9';
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const bases = ['2016-12-31T23:59:60Z', '2024-02-29T12:34:56.789+05:30', '1999-09-09 09:09:09-0930'];
    let accepted = 0;
    for (let i = 0; i < 200_000; i++) {
      let text = bases[random(bases.length)]!;
      for (let edits = 1 + random(2); edits > 0; edits--) {
        const at = random(text.length + 1);
        const char = alphabet[random(alphabet.length)]!;
        const kind = random(3);
        text =
          kind === 0
            ? text.slice(0, at) + char + text.slice(at + 1)
            : kind === 1
              ? text.slice(0, at) + char + text.slice(at)
              : text.slice(0, at) + text.slice(at + 1);
      }
      const expected = reference.validate(text);
      if (isRfc3339DateTime(text) !== expected)
        expect.fail(`${JSON.stringify(text)}: ajv-formats says ${expected}`);
      if (expected) accepted++;
    }
    // Both answers occur often enough for the comparison to mean something.
    expect(accepted).toBeGreaterThan(10_000);
    expect(accepted).toBeLessThan(190_000);
  });

  test('the CloudEvent schema checks `time` and `deliverat` with it', () => {
    const event = { specversion: '1.0', id: '1', source: '/s', type: 't' };
    expect(() => assertValidCloudEvent({ ...event, time: '2016-12-31T23:59:60Z' })).not.toThrow();
    expect(() => assertValidCloudEvent({ ...event, time: '2026-02-29T00:00:00Z' })).toThrow(/time/);
    expect(() => assertValidCloudEvent({ ...event, deliverat: '2026-11-21T08:00:00' })).toThrow(/deliverat/);
  });
});
