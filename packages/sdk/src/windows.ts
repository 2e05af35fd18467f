import { FuzeError, parseDuration, parseInstant } from '@fuze/core';

/**
 * Windows by event time for a processor's per-key state: tumbling (`slide` = `size`, the
 * default) or sliding (hopping: a window of `size` starts every `slide`), each folding its
 * events with `reduce`. The windows' state is plain JSON, kept in `ctx.state` with the rest of
 * the key's state, so windows survive crashes and rebalances like any state.
 *
 * Late events: the watermark is the latest event time seen for the key minus `allowedLateness`.
 * A window closes (is returned once in `closed`) when the watermark reaches its end; an event
 * whose every window has closed is `late` and changes nothing.
 */
export interface WindowOptions<A, V> {
  /** Window length: a duration (`1m`, `30s`) or milliseconds. */
  size: string | number;
  /** How often a window starts; default `size` (tumbling). Must divide `size`. */
  slide?: string | number;
  /** How far behind the latest event time an event may be and still count; default 0. */
  allowedLateness?: string | number;
  /** Folds one value into a window's accumulator (undefined for the window's first value). */
  reduce(accumulator: A | undefined, value: V): A;
}

/** The windows of one key, as JSON: keep it in the key's state. */
export interface WindowsState<A> {
  /** Latest event time seen (epoch ms), null before the first event. */
  latest: number | null;
  /** Open windows, oldest first. */
  open: Array<{ start: number; value: A }>;
}

export interface ClosedWindow<A> {
  /** Epoch ms: the window holds events with start <= time < end. */
  start: number;
  end: number;
  value: A;
}

export interface WindowsUpdate<A> {
  state: WindowsState<A>;
  /** Windows this event closed, oldest first. */
  closed: ClosedWindow<A>[];
  /** The event came after all its windows closed: it was not counted. */
  late: boolean;
}

export interface EventTimeWindows<A, V> {
  /** Counts `value` at event time `time` (RFC 3339 text, a Date or epoch ms). */
  add(state: WindowsState<A> | undefined, time: string | Date | number, value: V): WindowsUpdate<A>;
  /** Closes what the watermark passed by `now` (e.g. from a timer), without adding a value. */
  advance(state: WindowsState<A> | undefined, now: string | Date | number): WindowsUpdate<A>;
}

export function eventTimeWindows<A, V>(options: WindowOptions<A, V>): EventTimeWindows<A, V> {
  const size = milliseconds('size', options.size);
  const slide = options.slide === undefined ? size : milliseconds('slide', options.slide);
  const lateness =
    options.allowedLateness === undefined
      ? 0
      : milliseconds('allowedLateness', options.allowedLateness, true);
  if (size % slide !== 0)
    throw new FuzeError('FUZE_CONFIG_INVALID', `windows: slide (${slide} ms) must divide size (${size} ms)`);

  const closeUpTo = (open: WindowsState<A>['open'], watermark: number) => {
    const closed: ClosedWindow<A>[] = [];
    const still = [];
    for (const window of open) {
      if (window.start + size <= watermark)
        closed.push({ start: window.start, end: window.start + size, value: window.value });
      else still.push(window);
    }
    return { closed, still };
  };

  return {
    add(state, time, value) {
      const at = instant(time);
      const latest = Math.max(state?.latest ?? at, at);
      const watermark = latest - lateness;
      // The windows holding `at` start at every multiple of `slide` in (at - size, at].
      const lastStart = Math.floor(at / slide) * slide;
      const starts: number[] = [];
      for (let start = lastStart; start > at - size; start -= slide)
        if (start + size > watermark) starts.push(start);
      const open = [...(state?.open ?? [])];
      for (const start of starts) {
        const index = open.findIndex((w) => w.start === start);
        if (index >= 0) open[index] = { start, value: options.reduce(open[index]!.value, value) };
        else open.push({ start, value: options.reduce(undefined, value) });
      }
      open.sort((a, b) => a.start - b.start);
      const { closed, still } = closeUpTo(open, watermark);
      return { state: { latest, open: still }, closed, late: starts.length === 0 };
    },
    advance(state, now) {
      const latest = Math.max(state?.latest ?? Number.NEGATIVE_INFINITY, instant(now));
      const { closed, still } = closeUpTo(state?.open ?? [], latest - lateness);
      return { state: { latest, open: still }, closed, late: false };
    },
  };
}

function milliseconds(name: string, value: string | number, zeroAllowed = false): number {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (!Number.isFinite(ms) || ms < (zeroAllowed ? 0 : 1))
    throw new FuzeError(
      'FUZE_CONFIG_INVALID',
      `windows: ${name} must be a duration${zeroAllowed ? '' : ' above 0'} (e.g. 1m, 30s)`,
    );
  return ms;
}

function instant(time: string | Date | number): number {
  const ms = typeof time === 'number' ? time : time instanceof Date ? time.getTime() : parseInstant(time);
  if (ms === undefined || !Number.isFinite(ms))
    throw new FuzeError(
      'FUZE_STATE_INVALID',
      `windows: "${String(time)}" is not an event time: give the event's time (RFC 3339) or epoch ms`,
    );
  return ms;
}
