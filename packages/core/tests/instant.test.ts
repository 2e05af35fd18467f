import { describe, expect, it } from 'vitest';
import { isTimeZone, parseInstant, timeZoneProblem } from '../src/time/index.js';

describe('parseInstant', () => {
  it('reads every RFC 3339 form with a zone', () => {
    const nine = Date.UTC(2030, 0, 1, 9);
    expect(parseInstant('2030-01-01T09:00:00Z')).toBe(nine);
    expect(parseInstant('2030-01-01t09:00:00z')).toBe(nine);
    expect(parseInstant('2030-01-01 09:00:00Z')).toBe(nine);
    expect(parseInstant('2030-01-01T10:00:00+01:00')).toBe(nine);
    expect(parseInstant('2030-01-01T10:00:00+0100')).toBe(nine);
    expect(parseInstant('2030-01-01T10:00:00+01')).toBe(nine);
    expect(parseInstant('2030-01-01T09:00:00.250Z')).toBe(nine + 250);
  });

  it('refuses a time without a zone, a day that does not exist, a leap second and non-times', () => {
    for (const text of [
      '2030-01-01T09:00:00',
      '2030-01-01',
      '2030-02-30T09:00:00Z',
      '2016-12-31T23:59:60Z',
      '2030-01-01T09:00Z',
      'tomorrow',
      '',
    ]) {
      expect(parseInstant(text), text).toBeUndefined();
    }
  });
});

describe('isTimeZone', () => {
  it('knows IANA zones and refuses anything else, with a message naming the zone', () => {
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(timeZoneProblem('Mars/Olympus')).toContain('"Mars/Olympus"');
  });
});
