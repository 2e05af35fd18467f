import { JetStreamPublisher, openLeaseBuckets } from '@fuze/bus';
import { createLogger } from '@fuze/core';
import type { RetryPolicy } from '@fuze/rules';
import { connectTo } from '@fuze/test/harness';
import {
  type DeliveryHandler,
  jetStreamDeadLetterSink,
  TargetConsumer,
  type TargetConsumerOptions,
} from '../src/index.js';

export const silent = createLogger('silent');
export { connectTo };

export const fastRetry: RetryPolicy = {
  maxAttempts: 50,
  backoff: 'exponential',
  initialDelayMs: 5,
  maxDelayMs: 50,
  maxAgeMs: 3_600_000,
};

/** A worker process in miniature: its own connection, lease bucket, DLQ publisher and TargetConsumer. */
export async function startWorker(
  url: string,
  prefix: string,
  options: Pick<TargetConsumerOptions, 'target' | 'partitions' | 'handler'> &
    Partial<Omit<TargetConsumerOptions, 'target' | 'partitions' | 'handler'>> & { retry?: RetryPolicy },
) {
  const nc = await connectTo(url);
  const publisher = new JetStreamPublisher(nc);
  const consumer = new TargetConsumer({
    nc,
    streamPrefix: prefix,
    deliveryStream: `${prefix}_DELIVERY`,
    retryPolicy: () => options.retry ?? fastRetry,
    deadLetters: jetStreamDeadLetterSink(publisher, prefix),
    leaseBuckets: await openLeaseBuckets(nc, prefix, 1_500),
    logger: silent,
    ...options,
    tuning: { leaseTtlMs: 1_500, ...options.tuning },
  });
  await consumer.start();
  return {
    nc,
    consumer,
    async stop() {
      await consumer.stop();
      await publisher.close();
      await nc.close();
    },
  };
}

/** Per key, the event numbers in arrival order. */
export class Receiver {
  readonly byKey = new Map<string, number[]>();
  total = 0;

  record(key: string, n: number): void {
    this.total += 1;
    const list = this.byKey.get(key) ?? [];
    list.push(n);
    this.byKey.set(key, list);
  }

  /** Keys whose first arrivals are exactly 1..perKey in order (duplicates of delivered ones ignored). */
  checkOrder(
    keys: string[],
    perKey: number,
  ): { complete: boolean; outOfOrder: string[]; duplicates: number } {
    const outOfOrder: string[] = [];
    let complete = true;
    let duplicates = 0;
    for (const key of keys) {
      const seen = new Set<number>();
      const firsts: number[] = [];
      for (const n of this.byKey.get(key) ?? []) {
        if (seen.has(n)) duplicates += 1;
        else {
          seen.add(n);
          firsts.push(n);
        }
      }
      if (firsts.length !== perKey) complete = false;
      if (firsts.some((n, i) => n !== i + 1)) outOfOrder.push(key);
    }
    return { complete, outOfOrder, duplicates };
  }
}

export type { DeliveryHandler };
