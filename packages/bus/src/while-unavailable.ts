import { type Logger, retryDelayMs } from '@fuze/core';
import { JetStreamApiError } from '@nats-io/jetstream';

/**
 * True for errors JetStream gives while a cluster elects leaders or a node catches up (timeouts,
 * no responders, "temporarily unavailable"): worth retrying, unlike a refusal.
 */
export function isJetStreamUnavailable(err: unknown): boolean {
  // nats.js wraps the cause (e.g. JetStreamNotEnabled caused by NoResponders): look down the chain.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof JetStreamApiError && (e.status === 503 || e.code === 10_008)) return true;
    if (/^(TimeoutError|NoResponders|JetStreamNotEnabled)$/.test(e.name)) return true;
    if (/timeout|no responders|temporarily unavailable|not enabled/i.test(e.message)) return true;
  }
  return false;
}

/**
 * Runs `action`, retrying while JetStream is unavailable, for up to `forMs` (default 60 s): a
 * process started while its cluster elects a leader waits instead of exiting.
 */
export async function whileUnavailable<T>(
  what: string,
  action: () => Promise<T>,
  logger: Logger,
  forMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      if (!isJetStreamUnavailable(err) || Date.now() > deadline) throw err;
      const delay = retryDelayMs(attempt, 200, 2_000);
      logger.warn({ err, attempt, retryInMs: delay }, `${what}: JetStream unavailable; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
