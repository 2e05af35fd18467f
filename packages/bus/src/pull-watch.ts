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
 * - the connection re-established: nats.js then stops checking heartbeats and pulls again only
 *   once the consumer answers an info request, retried every request timeout plus the pull's
 *   expiry (4.5 s). A routing shard whose client lost its server with the consumer's leader
 *   stayed silent 10 s after the kill; the reopen retries every 1.75 s
 *   (failoverRequestTimeoutMs and 250 ms).
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
  const unsubscribe = onReconnect(nc, () => tell('the NATS connection was re-established'));
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

const reconnectListeners = new WeakMap<NatsConnection, Set<() => void>>();

/** Calls `listener` on each reconnect of `nc` until the returned function is called; one status watch per connection. */
function onReconnect(nc: NatsConnection, listener: () => void): () => void {
  let listeners = reconnectListeners.get(nc);
  if (!listeners) {
    const created = new Set<() => void>();
    reconnectListeners.set(nc, created);
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'reconnect') for (const notify of [...created]) notify();
      }
    })();
    listeners = created;
  }
  const registered = listeners;
  registered.add(listener);
  return () => registered.delete(listener);
}
