import { describe, expect, test } from 'vitest';
import { assertValidCloudEvent } from '../src/index.js';
import { isRfc3339DateTime } from '../src/time/rfc3339.js';

// The forms of RFC 3339 Fuze accepts wherever it reads a time (ajv-formats' full `date-time`).

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
  test.each(cases)('%j -> %s', (text, expected) => {
    expect(isRfc3339DateTime(text)).toBe(expected);
  });

  test('the CloudEvent schema checks `time` and `deliverat` with it', () => {
    const event = { specversion: '1.0', id: '1', source: '/s', type: 't' };
    expect(() => assertValidCloudEvent({ ...event, time: '2016-12-31T23:59:60Z' })).not.toThrow();
    expect(() => assertValidCloudEvent({ ...event, time: '2026-02-29T00:00:00Z' })).toThrow(/time/);
    expect(() => assertValidCloudEvent({ ...event, deliverat: '2026-11-21T08:00:00' })).toThrow(/deliverat/);
  });
});
