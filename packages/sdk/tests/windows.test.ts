import { describe, expect, test } from 'vitest';
import { eventTimeWindows, isFuzeError, type WindowsState } from '../src/index.js';

const t = (minutes: number, seconds = 0) => Date.UTC(2030, 0, 1, 9, minutes, seconds);
const sum = (acc: number | undefined, value: number) => (acc ?? 0) + value;

/** Adds events in order, the state through JSON each time as ctx.state keeps it. */
function run(windows: ReturnType<typeof eventTimeWindows<number, number>>, events: Array<[number, number]>) {
  let state: WindowsState<number> | undefined;
  const closed: Array<[number, number, number]> = [];
  const late: number[] = [];
  for (const [time, value] of events) {
    const update = windows.add(state, new Date(time).toISOString(), value);
    state = JSON.parse(JSON.stringify(update.state));
    for (const w of update.closed) closed.push([w.start, w.end, w.value]);
    if (update.late) late.push(value);
  }
  return { state, closed, late };
}

describe('eventTimeWindows', () => {
  test('tumbling: each event in one window, closed by the first event past its end', () => {
    const { state, closed, late } = run(eventTimeWindows({ size: '1m', reduce: sum }), [
      [t(0, 10), 1],
      [t(0, 50), 2],
      [t(1, 5), 4],
      [t(1, 30), 8],
      [t(2, 0), 16],
    ]);
    expect(closed).toEqual([
      [t(0), t(1), 3],
      [t(1), t(2), 12],
    ]);
    expect(state?.open).toEqual([{ start: t(2), value: 16 }]);
    expect(late).toEqual([]);
  });

  test('allowed lateness keeps a window open past its end; later than that, an event is late and changes nothing', () => {
    const { closed, late, state } = run(
      eventTimeWindows({ size: '1m', allowedLateness: '10s', reduce: sum }),
      [
        [t(0, 10), 1],
        [t(1, 5), 2], // watermark 0:55: [0m, 1m) stays open
        [t(0, 58), 4], // in time for [0m, 1m)
        [t(1, 12), 8], // watermark 1:02: [0m, 1m) closes
        [t(0, 59), 16], // late
        [t(1, 20), 32],
      ],
    );
    expect(closed).toEqual([[t(0), t(1), 5]]);
    expect(late).toEqual([16]);
    expect(state?.open).toEqual([{ start: t(1), value: 42 }]);
  });

  test('sliding: a window of size starts every slide; each event counts in size / slide windows', () => {
    const { closed, state } = run(eventTimeWindows({ size: '1m', slide: '20s', reduce: sum }), [
      [t(0, 5), 1],
      [t(0, 25), 2],
      [t(0, 45), 4],
      [t(1, 5), 8], // closes [0:00, 1:00)
      [t(1, 25), 16], // closes [0:20, 1:20)
    ]);
    // The event at 0:05 is also in [-0:40, 0:20) and [-0:20, 0:40), closed by 0:25 and 0:45.
    expect(closed).toEqual([
      [t(0, 0) - 40_000, t(0, 20), 1],
      [t(0, 0) - 20_000, t(0, 40), 3],
      [t(0, 0), t(1, 0), 7],
      [t(0, 20), t(1, 20), 14],
    ]);
    // Open: [0:40, 1:40) = 4 + 8 + 16, [1:00, 2:00) = 8 + 16, [1:20, 2:20) = 16.
    expect(state?.open).toEqual([
      { start: t(0, 40), value: 28 },
      { start: t(1, 0), value: 24 },
      { start: t(1, 20), value: 16 },
    ]);
  });

  test('advance closes what a later time passed, without a value (e.g. on a timer)', () => {
    const windows = eventTimeWindows({ size: '1m', reduce: sum });
    const first = windows.add(undefined, t(0, 30), 5);
    expect(windows.advance(first.state, t(0, 59)).closed).toEqual([]);
    const update = windows.advance(first.state, new Date(t(1, 0)));
    expect(update.closed).toEqual([{ start: t(0), end: t(1), value: 5 }]);
    expect(update.state.open).toEqual([]);
  });

  test('bad options and times are refused with what to give instead', () => {
    const refusal = (make: () => unknown) => {
      try {
        make();
      } catch (err) {
        return isFuzeError(err) ? `${err.code}: ${err.message}` : String(err);
      }
      return 'accepted';
    };
    expect(refusal(() => eventTimeWindows({ size: '1m', slide: '25s', reduce: sum }))).toContain(
      'must divide size',
    );
    expect(refusal(() => eventTimeWindows({ size: 0, reduce: sum }))).toContain(
      'size must be a duration above 0',
    );
    expect(refusal(() => eventTimeWindows({ size: 'soon', reduce: sum }))).toContain('is not a duration');
    expect(refusal(() => eventTimeWindows({ size: '1m', reduce: sum }).add(undefined, '9:00', 1))).toContain(
      'FUZE_STATE_INVALID',
    );
  });
});
