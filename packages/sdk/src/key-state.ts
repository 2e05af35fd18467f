import { maxStateBytes } from '@fuze/bus';
import { FuzeError } from '@fuze/core';

/** The state of the event's partition key, as a processor's handler sees it (`ctx.state`). */
export interface KeyStateAccess<S> {
  /** The key's state: as of the last event of the key that was committed; undefined if none. */
  get(): S | undefined;
  /** Replaces the key's state; stored if and only if the event is acked (it is stored first). */
  set(value: S): void;
  /** Forgets the key's state, as `set` does (the event that deleted it is not applied twice). */
  delete(): void;
}

/**
 * One attempt's view of a key's state. The committed state is kept as JSON text: `get` parses a
 * fresh copy (so a handler that mutates it and then fails leaves the committed state intact),
 * `set` serialises at once (so later mutations of the object do not leak into the commit, and a
 * state too large or not JSON fails at the call that made it).
 */
export class KeyState<S> implements KeyStateAccess<S> {
  /** The JSON to commit (undefined = delete), once the handler changed something. */
  change: { text: string | undefined } | undefined;
  private read: { value: S | undefined } | undefined;

  constructor(
    private readonly key: string,
    private readonly committed: string | undefined,
  ) {}

  get(): S | undefined {
    if (this.change) return this.change.text === undefined ? undefined : (JSON.parse(this.change.text) as S);
    this.read ??= { value: this.committed === undefined ? undefined : (JSON.parse(this.committed) as S) };
    return this.read.value;
  }

  set(value: S): void {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw invalidState(this.key, (err as Error).message, err);
    }
    if (text === undefined) throw invalidState(this.key, `${typeof value} is not JSON`);
    const bytes = Buffer.byteLength(text);
    if (bytes > maxStateBytes)
      throw new FuzeError(
        'FUZE_STATE_TOO_LARGE',
        `the state of key "${this.key}" would be ${bytes} bytes of JSON, over the limit of ${maxStateBytes}: keep less per key (e.g. a bounded window)`,
        { details: { key: this.key, bytes, limit: maxStateBytes } },
      );
    this.change = { text };
    this.read = undefined;
  }

  delete(): void {
    this.change = { text: undefined };
    this.read = undefined;
  }
}

/** `ctx.state` for an event with no partition key (the unordered subject): there is no key to keep state for. */
export const noKeyState: KeyStateAccess<never> = {
  get: () => {
    throw noPartitionKey('per-key state');
  },
  set: () => {
    throw noPartitionKey('per-key state');
  },
  delete: () => {
    throw noPartitionKey('per-key state');
  },
};

/** What `ctx.state` and `ctx.timers` throw for an event without a partition key. */
export function noPartitionKey(what: string): FuzeError {
  return new FuzeError(
    'FUZE_STATE_INVALID',
    `this event has no partition key, so it has no ${what}: publish it with a partitionkey, or give the target an ordering.partitionKey its events carry`,
  );
}

function invalidState(key: string, why: string, cause?: unknown): FuzeError {
  return new FuzeError(
    'FUZE_STATE_INVALID',
    `the state set for key "${key}" cannot be stored as JSON (${why}): keep plain objects, arrays, strings, numbers, booleans and null`,
    { details: { key }, ...(cause ? { cause } : {}) },
  );
}
