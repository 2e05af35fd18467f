/** What the stream gauges show; read from JetStream by the runtime, which owns the connection. */
export interface StreamStats {
  consumers: Array<{ stream: string; consumer: string; lag: number }>;
  deadLetters: Array<{ target: string; depth: number }>;
}

export type StreamStatsReader = () => Promise<StreamStats>;

let reader: StreamStatsReader | undefined;
let maxAgeMs = 5_000;
let cached: { at: number; stats: Promise<StreamStats | undefined> } | undefined;
let onError: ((err: unknown) => void) | undefined;

/**
 * Where `fuze_consumer_lag` and `fuze_dlq_depth` come from. A scrape reads JetStream at most once
 * per `maxAgeMs` (several scrapers, or both gauges, share one read). `undefined` detaches.
 */
export function setStreamStatsReader(
  next: StreamStatsReader | undefined,
  options: { maxAgeMs?: number; onError?: (err: unknown) => void } = {},
): void {
  reader = next;
  maxAgeMs = options.maxAgeMs ?? 5_000;
  onError = options.onError;
  cached = undefined;
}

/** The latest stats (undefined without a reader, or when JetStream could not be read: no values then). */
export function readStreamStats(): Promise<StreamStats | undefined> {
  if (!reader) return Promise.resolve(undefined);
  const now = Date.now();
  if (cached && now - cached.at < maxAgeMs) return cached.stats;
  const entry: { at: number; stats: Promise<StreamStats | undefined> } = {
    at: now,
    stats: Promise.resolve(undefined),
  };
  entry.stats = reader().catch((err: unknown) => {
    onError?.(err);
    if (cached === entry) cached = undefined; // the next scrape tries again
    return undefined;
  });
  cached = entry;
  return cached.stats;
}
