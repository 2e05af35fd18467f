import { describe, expect, test } from 'vitest';
import { compileCron } from '../src/index.js';

/** The next `n` due times after `from`, as ISO strings. */
function next(expression: string, timezone: string, from: string, n: number): string[] {
  const cron = compileCron(expression, timezone);
  const out: string[] = [];
  let at = Date.parse(from);
  for (let i = 0; i < n; i++) {
    at = cron.nextAfter(at)!;
    out.push(new Date(at).toISOString());
  }
  return out;
}

describe('cron in an IANA time zone across daylight-saving changes', () => {
  test('spring forward, Europe/Berlin: a fixed time in the gap runs at the first valid time after it', () => {
    // 31 March 2024: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    expect(next('30 2 * * *', 'Europe/Berlin', '2024-03-29T12:00:00Z', 4)).toEqual([
      '2024-03-30T01:30:00.000Z', // 02:30 CET (+01:00)
      '2024-03-31T01:00:00.000Z', // 03:00 CEST: first valid time after the gap
      '2024-04-01T00:30:00.000Z', // 02:30 CEST (+02:00)
      '2024-04-02T00:30:00.000Z',
    ]);
  });

  test('fall back, Europe/Berlin: a fixed time that happens twice runs once', () => {
    // 27 October 2024: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    expect(next('30 2 * * *', 'Europe/Berlin', '2024-10-26T12:00:00Z', 3)).toEqual([
      '2024-10-27T00:30:00.000Z', // 02:30 CEST, the first occurrence only
      '2024-10-28T01:30:00.000Z', // 02:30 CET
      '2024-10-29T01:30:00.000Z',
    ]);
  });

  test('spring forward, America/New_York', () => {
    // 10 March 2024: 02:00 EST jumps to 03:00 EDT.
    expect(next('30 2 * * *', 'America/New_York', '2024-03-08T12:00:00Z', 3)).toEqual([
      '2024-03-09T07:30:00.000Z', // 02:30 EST (-05:00)
      '2024-03-10T07:00:00.000Z', // 03:00 EDT
      '2024-03-11T06:30:00.000Z', // 02:30 EDT (-04:00)
    ]);
  });

  test('fall back, America/New_York: once at 01:30 EDT, not again at 01:30 EST', () => {
    expect(next('30 1 * * *', 'America/New_York', '2024-11-02T12:00:00Z', 2)).toEqual([
      '2024-11-03T05:30:00.000Z',
      '2024-11-04T06:30:00.000Z',
    ]);
  });

  test('interval jobs follow real time: every hour of a fall-back night fires, the repeated one twice', () => {
    expect(next('0 * * * *', 'America/New_York', '2024-11-03T03:30:00Z', 5)).toEqual([
      '2024-11-03T04:00:00.000Z', // 00:00 EDT
      '2024-11-03T05:00:00.000Z', // 01:00 EDT
      '2024-11-03T06:00:00.000Z', // 01:00 EST (the hour again)
      '2024-11-03T07:00:00.000Z', // 02:00 EST
      '2024-11-03T08:00:00.000Z',
    ]);
  });

  test('interval jobs skip the times of a spring-forward gap', () => {
    // */30 on 31 March 2024 in Berlin: 02:00 and 02:30 do not exist.
    expect(next('*/30 * * * *', 'Europe/Berlin', '2024-03-31T00:15:00Z', 3)).toEqual([
      '2024-03-31T00:30:00.000Z', // 01:30 CET
      '2024-03-31T01:00:00.000Z', // 03:00 CEST
      '2024-03-31T01:30:00.000Z', // 03:30 CEST
    ]);
  });

  test('a half-hour DST zone (Australia/Lord_Howe) and weekdays in the local calendar', () => {
    // 6 October 2024: Lord Howe jumps from 02:00 to 02:30 (+10:30 to +11:00).
    expect(next('15 2 * * *', 'Australia/Lord_Howe', '2024-10-04T00:00:00Z', 3)).toEqual([
      '2024-10-04T15:45:00.000Z', // 02:15 +10:30
      '2024-10-05T15:30:00.000Z', // in the gap: 02:30 +11:00
      '2024-10-06T15:15:00.000Z', // 02:15 +11:00
    ]);
    // Monday 09:00 in Tokyo is Monday 00:00 UTC; in Honolulu it is Monday 19:00 UTC.
    expect(next('0 9 * * MON', 'Asia/Tokyo', '2024-01-01T12:00:00Z', 1)).toEqual([
      '2024-01-08T00:00:00.000Z',
    ]);
    expect(next('0 9 * * MON', 'Pacific/Honolulu', '2024-01-01T12:00:00Z', 1)).toEqual([
      '2024-01-01T19:00:00.000Z',
    ]);
  });

  test('day-of-month and day-of-week combine with OR, as in Vixie cron', () => {
    // The 13th, or any Friday.
    expect(next('0 0 13 * FRI', 'UTC', '2024-09-10T00:00:00Z', 3)).toEqual([
      '2024-09-13T00:00:00.000Z',
      '2024-09-20T00:00:00.000Z',
      '2024-09-27T00:00:00.000Z',
    ]);
  });

  test('an expression that never fires again has no next time; bad input throws', () => {
    expect(compileCron('0 0 30 2 *', 'UTC').nextAfter(Date.parse('2024-01-01T00:00:00Z'))).toBeUndefined();
    expect(() => compileCron('0 9 * *', 'UTC')).toThrow(/five/);
    expect(() => compileCron('0 9 * * *', 'Mars/Olympus')).toThrow(/IANA time zone/);
  });
});
