import { type AdminClientOptions, createAdminClient, FuzeError, type TimerEventTemplate } from '@fuze/core';

/** The CloudEvent a timer publishes, without id/specversion/time (set at each firing). */
export type TimerEvent = TimerEventTemplate;

/** After an outage longer than `misfireGrace`: fire the first missed time once, all of them, or none. */
export type MisfirePolicy = 'fire-once' | 'fire-all' | 'skip';

/** When a timer fires: exactly one of these. */
export type TimerTiming =
  | { at: string | Date }
  | { delay: string }
  | { cron: string; timezone?: string }
  | { rate: string };

export type PutTimerInput = TimerTiming & {
  event: TimerEvent;
  /** Default `fire-once`. */
  misfire?: MisfirePolicy;
  /** How late a firing may be before it counts as a misfire, e.g. `5m`; default `60s`. */
  misfireGrace?: string;
  /** Default `default`. */
  bus?: string;
  /**
   * One-shot timers (`at`, `delay`): when a delivery of the fired event is dead-lettered, fire
   * again `after` (e.g. `10m`), at most `times` (default 1).
   */
  rearm?: { after: string; times?: number };
};

export type TimerState = 'scheduled' | 'completed' | 'cancelled' | 'paused' | 'failed';

/** A timer as the admin API returns it. Times are RFC 3339 strings. */
export interface Timer {
  key: string;
  bus: string;
  origin: 'api' | 'schedule' | 'delayed';
  state: TimerState;
  event: TimerEvent;
  schedule:
    | { kind: 'at'; at: string; delay?: string }
    | { kind: 'cron'; cron: string; timezone: string }
    | { kind: 'rate'; rate: string };
  misfire: MisfirePolicy;
  misfireGrace: string;
  /** Null when nothing is due (fired one-shot, cancelled, paused). */
  nextFireAt: string | null;
  /** Due time of the last firing: the `time` of its event. */
  lastDueAt: string | null;
  lastFiredAt: string | null;
  fireCount: number;
  /** Bumped by every replace and cancel; part of each firing's event id. */
  generation: number;
  lastError: string | null;
  /** What became of the last firing, once known (see docs/timers.md, "Outcomes"). */
  lastOutcome:
    | { state: 'published'; dueAt: string }
    | { state: 'delivered'; dueAt: string; rule: string; target: string; deliveredAt: string }
    | {
        state: 'dead-lettered';
        dueAt: string;
        deadLetterId: string;
        rule: string;
        target: string;
        error: string;
      }
    | null;
  /** The re-arm policy, and `done`: re-arms used since the last put. */
  rearm: { after: string; times: number; done: number } | null;
  createdAt: string;
  updatedAt: string;
}

export interface TimerListQuery {
  /** Keys starting with this. */
  prefix?: string;
  /** Next fire time at or after. */
  dueFrom?: string | Date;
  /** Next fire time at or before. */
  dueTo?: string | Date;
  state?: TimerState;
  /** From the previous page's `nextCursor`. */
  cursor?: string;
  /** 1..1000, default 100. */
  limit?: number;
}

/**
 * Where the admin API is: `adminUrl` (`FUZE_ADMIN_URL`; default http://127.0.0.1:8081), `token`
 * with `timers:read`/`timers:write` (`FUZE_ADMIN_TOKEN` or an API key), `env` (default
 * `process.env`) and `fetch` (default the global fetch).
 */
export type TimersClientOptions = AdminClientOptions;

/** One timer of `putMany`: a `put`'s input with its key. */
export type PutManyTimerInput = PutTimerInput & { key: string };

/** What `putMany` tells of each timer, in the order given. */
export interface PutTimerOutcome {
  key: string;
  /** False: a timer had this key and was replaced (re-armed). */
  created: boolean;
  state: TimerState;
  nextFireAt: string | null;
  generation: number;
}

/** Timers per `PUT /v1/timers` request: the API's limit. */
export const timersPerBatch = 1000;

export interface TimersClient {
  /** Creates the timer, or replaces it atomically (re-arming it). */
  put(key: string, input: PutTimerInput): Promise<{ timer: Timer; created: boolean }>;
  /**
   * Creates or replaces many timers, 1,000 per request: each request is one transaction (all of
   * its timers or none, every problem reported at once as `timers.<index>.<field>`, index within
   * the request). Requests go one after the other; when one fails, the earlier ones stay written
   * and the error says how many were.
   */
  putMany(timers: readonly PutManyTimerInput[]): Promise<PutTimerOutcome[]>;
  /** The timer, or undefined when no timer has this key. */
  get(key: string): Promise<Timer | undefined>;
  /** One page of timers in key order; pass `nextCursor` back as `cursor` for the next. */
  list(query?: TimerListQuery): Promise<{ items: Timer[]; nextCursor?: string }>;
  /** Every timer matching the query, page after page. */
  listAll(query?: Omit<TimerListQuery, 'cursor'>): AsyncIterable<Timer>;
  /** Cancels the timer (its record stays, state `cancelled`); false when no timer has this key. */
  cancel(key: string): Promise<boolean>;
  /**
   * Makes a scheduled timer due now (a cron or rate timer then goes on with its schedule, a
   * one-shot one completes) and returns it; undefined when no timer has this key. Throws
   * FUZE_TIMER_NOT_SCHEDULED for a completed, cancelled, paused or failed timer.
   */
  fireNow(key: string): Promise<Timer | undefined>;
}

/** A put's JSON body: an `at` given as a Date goes as RFC 3339. */
function requestBody(input: PutTimerInput): Record<string, unknown> {
  const body: Record<string, unknown> = { ...input };
  if ('at' in input && input.at instanceof Date) body.at = input.at.toISOString();
  return body;
}

/**
 * A typed client of the admin API's timers. Errors are FuzeErrors with the API's code
 * (FUZE_INVALID_TIMER with `details.problems` naming each field, FUZE_UNAUTHORIZED, ...), and
 * FUZE_ADMIN_UNREACHABLE when the API cannot be reached.
 */
export function createTimersClient(options: TimersClientOptions = {}): TimersClient {
  const admin = createAdminClient(options);
  const call = admin.request.bind(admin);
  const path = (key: string) => `/v1/timers/${encodeURIComponent(key)}`;

  const client: TimersClient = {
    async put(key, input) {
      const { status, body: timer } = await call<Timer>('PUT', path(key), requestBody(input));
      return { timer, created: status === 201 };
    },
    async putMany(timers) {
      const outcomes: PutTimerOutcome[] = [];
      for (let start = 0; start < timers.length; start += timersPerBatch) {
        const batch = timers.slice(start, start + timersPerBatch).map(requestBody);
        try {
          const { body } = await call<{ timers: PutTimerOutcome[] }>('PUT', '/v1/timers', { timers: batch });
          outcomes.push(...body.timers);
        } catch (err) {
          if (start === 0 || !(err instanceof FuzeError)) throw err;
          throw new FuzeError(
            err.code,
            `${err.message} (timers ${start}-${start + batch.length - 1}; the ${start} before them were written)`,
            { cause: err, details: { ...err.details, written: start } },
          );
        }
      }
      return outcomes;
    },
    async get(key) {
      try {
        return (await call<Timer>('GET', path(key))).body;
      } catch (err) {
        if (err instanceof FuzeError && err.code === 'FUZE_TIMER_NOT_FOUND') return undefined;
        throw err;
      }
    },
    async list(query = {}) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) {
        if (value === undefined) continue;
        params.set(name, value instanceof Date ? value.toISOString() : String(value));
      }
      const qs = params.toString();
      return (await call<{ items: Timer[]; nextCursor?: string }>('GET', `/v1/timers${qs ? `?${qs}` : ''}`))
        .body;
    },
    async *listAll(query = {}) {
      let cursor: string | undefined;
      do {
        const page = await client.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
        yield* page.items;
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    },
    async cancel(key) {
      try {
        await call('DELETE', path(key));
        return true;
      } catch (err) {
        if (err instanceof FuzeError && err.code === 'FUZE_TIMER_NOT_FOUND') return false;
        throw err;
      }
    },
    async fireNow(key) {
      try {
        return (await call<Timer>('POST', `${path(key)}/fire`)).body;
      } catch (err) {
        if (err instanceof FuzeError && err.code === 'FUZE_TIMER_NOT_FOUND') return undefined;
        throw err;
      }
    },
  };
  return client;
}
