import type { ConsumerMessages, ConsumerNotification } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface PullWatch {
  /** Every status nats.js reports of the pulls, first (for logs and the caller's own endings). */
  seen(status: ConsumerNotification): void;
  /** Called once: the pulls can no longer be counted on to be answered; reopen the consumer. */
  unanswered(reason: string): void;
}

/**
 * Watches a consume's pulls and tells, once, when they can no longer be counted on, so that the
 * routing shard or delivery partition reopens its consumer at once:
 * - two heartbeats missed (see pullHeartbeatMs);
 * - the connection lost: on the reconnect nats.js would stop checking heartbeats and pull again
 *   only once the consumer answers an info request, retried every request timeout plus the
 *   pull's expiry (4.5 s). A routing shard whose client lost its server with the consumer's
 *   leader stayed silent 10 s after the kill; a reopen retries every 1.75 s
 *   (failoverRequestTimeoutMs and 250 ms). Told at the disconnect, so the consume is stopped
 *   before nats.js pulls again on it: told at the reconnect, while nats.js pulled again on the
 *   consume being replaced, a key's event reached the target after its successor in 3 of 9 runs
 *   of the flow-control test that restarts NATS twice (0 of 9 told at the disconnect; how the
 *   pull lost it was not traced).
 * Ends when the consume ends.
 */
export async function watchPulls(
  messages: ConsumerMessages,
  nc: NatsConnection,
  watch: PullWatch,
): Promise<void> {
  let told = false;
  const tell = (reason: string) => {
    if (told) return;
    told = true;
    watch.unanswered(reason);
  };
  const unsubscribe = onDisconnect(nc, () => tell('the NATS connection was lost'));
  void messages.closed().finally(unsubscribe);
  try {
    for await (const status of messages.status()) {
      watch.seen(status);
      if (status.type === 'heartbeats_missed')
        tell('pulls unanswered (the consumer may be electing a leader)');
    }
  } finally {
    unsubscribe();
  }
}

const disconnectListeners = new WeakMap<NatsConnection, Set<() => void>>();

/** Calls `listener` on each disconnect of `nc` until the returned function is called; one status watch per connection. */
function onDisconnect(nc: NatsConnection, listener: () => void): () => void {
  let listeners = disconnectListeners.get(nc);
  if (!listeners) {
    const created = new Set<() => void>();
    disconnectListeners.set(nc, created);
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') for (const notify of [...created]) notify();
      }
    })();
    listeners = created;
  }
  const registered = listeners;
  registered.add(listener);
  return () => registered.delete(listener);
}
