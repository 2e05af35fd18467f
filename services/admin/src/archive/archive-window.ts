import { formatDuration } from '@fuze/core';
import type { MsgRequest } from '@nats-io/jetstream';
import type { JetStreamManager } from '../dlq/jetstream.js';

/** What an archive replay needs to know of the events stream (from its info). */
export interface EventsStreamState {
  first_seq: number;
  last_seq: number;
  first_ts: string;
  messages: number;
}

/** The stream sequences a window spans: empty when `firstSeq > lastSeq`. */
export interface WindowSequences {
  /** The first event of the bus accepted at or after `from`. */
  firstSeq: number;
  /** The last message (of any bus) accepted before `to`: the replay stops after it. */
  lastSeq: number;
}

/**
 * Finds a window's sequences by binary search over the stream's timestamps (they only grow with
 * the sequence): a few dozen message reads, however long the stream. Each read takes the next
 * message at or after a sequence (`next_by_subj`), so removed sequences do no harm.
 */
export async function windowSequences(
  jsm: JetStreamManager,
  stream: string,
  state: EventsStreamState,
  filters: { all: string; bus: string },
  window: { from: number; to: number },
): Promise<WindowSequences> {
  const empty = { firstSeq: state.last_seq + 1, lastSeq: state.last_seq };
  if (state.messages === 0) return empty;
  const timeAt = async (seq: number): Promise<{ seq: number; at: number } | undefined> => {
    const msg = await nextMessage(jsm, stream, seq, filters.all);
    return msg ? { seq: msg.seq, at: msg.time.getTime() } : undefined;
  };
  /** The smallest sequence whose message was accepted at or after `at` (last_seq + 1: none). */
  const firstAtOrAfter = async (at: number): Promise<number> => {
    let lo = state.first_seq;
    let hi = state.last_seq + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const found = await timeAt(mid);
      if (!found || found.at >= at) hi = mid;
      else lo = found.seq + 1;
    }
    return lo;
  };
  const start = await firstAtOrAfter(window.from);
  const lastSeq = (await firstAtOrAfter(window.to)) - 1;
  if (start > lastSeq) return empty;
  const first = await nextMessage(jsm, stream, start, filters.bus);
  if (!first || first.seq > lastSeq) return empty;
  return { firstSeq: first.seq, lastSeq };
}

/**
 * The first message at or after `seq` on `subject`, or undefined. The server's STREAM.MSG.GET
 * takes `next_by_subj` (seen on 2.9.10); nats.js types that request for direct gets only.
 */
function nextMessage(jsm: JetStreamManager, stream: string, seq: number, subject: string) {
  const request = { seq, next_by_subj: subject } as unknown as MsgRequest;
  return jsm.streams.getMessage(stream, request);
}

/**
 * Why the stream can no longer replay a window starting at `from`, or undefined when it can: the
 * stream has removed messages (its first sequence is past 1) and its oldest still held was
 * accepted after `from`. A stream that never removed anything holds all it ever had.
 */
export function expiredWindowProblem(
  state: EventsStreamState,
  from: number,
  maxAgeMs: number,
): string | undefined {
  if (state.first_seq <= 1 || state.messages === 0) return undefined;
  const oldest = Date.parse(state.first_ts);
  if (from >= oldest) return undefined;
  const keeps = maxAgeMs > 0 ? ` (it keeps events for ${formatDuration(maxAgeMs)}: FUZE_EVENTS_MAX_AGE)` : '';
  return `the events stream no longer holds events accepted before ${new Date(oldest).toISOString()}${keeps}: start the window at or after that time`;
}
