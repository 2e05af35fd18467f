import { FuzeError, type Logger } from '@fuze/core';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface ConnectOptions {
  url: string;
  /** Shown in the server's connection list: `fuze-<services>`. */
  name: string;
  logger: Logger;
  /** How long the first connect may take before we give up with a clear error. */
  timeoutMs?: number;
}

/**
 * Connects with the settings every Fuze process wants: no async stack traces (doubles publish
 * throughput), reconnect forever once connected, and connection events in the log.
 */
export async function connectNats(options: ConnectOptions): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url.split(',').map((s) => s.trim()),
      name: options.name,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: options.timeoutMs ?? 5_000,
      pingInterval: 10_000,
    });
  } catch (err) {
    throw new FuzeError(
      'FUZE_NATS_UNAVAILABLE',
      `cannot connect to NATS at ${options.url}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  void logStatus(nc, options.logger);
  return nc;
}

async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect' || status.type === 'reconnecting' || status.type === 'staleConnection') {
      logger.warn({ nats: status.type }, 'NATS connection lost, reconnecting');
    } else if (status.type === 'reconnect') {
      logger.info({ nats: status.type }, 'NATS connection restored');
    } else if (status.type === 'error') {
      logger.error({ nats: status.type, err: status.error }, 'NATS connection error');
    }
  }
}

/** True when a NATS server answers at `url` (used to decide whether to start an embedded one). */
export async function natsAnswers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1_000, maxReconnectAttempts: 0, noAsyncTraces: true });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}
