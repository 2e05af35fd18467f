import { connect, type NatsConnection } from '@nats-io/transport-node';

/** A client for tests that kill and restart servers: it reconnects for ever, every 100 ms. */
export function connectTo(url: string): Promise<NatsConnection> {
  return connect({ servers: url, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
}
