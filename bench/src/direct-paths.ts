import { JetStreamPublisher } from '@fuze/bus';
import { defaultRouting, encodeEventMessage } from '@fuze/core';
import { createPublisher } from '@fuze/sdk';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { closedLoop, type Rate } from './measure.js';
import { sampleEvent, sampleInput } from './sample-event.js';

/** One publishing path, set up once and measured repeatedly. */
export interface DirectPath {
  run(durationMs: number): Promise<Rate>;
  close(): Promise<void>;
}

let unique = 0;

/** Baseline A: nats.js `js.publish` (noAsyncTraces), windows of 1,000 awaited acks. */
export async function rawJsPublish(natsUrl: string, prefix: string): Promise<DirectPath> {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const js = jetstream(nc);
  const { subject, payload } = encodeEventMessage(prefix, 'default', sampleEvent(), defaultRouting);
  return {
    run: (durationMs) =>
      closedLoop({
        concurrency: 1,
        durationMs,
        op: async () => {
          const window = [];
          for (let i = 0; i < 1_000; i++)
            window.push(js.publish(subject, payload, { msgID: `a-${unique++}` }));
          await Promise.all(window);
          return 1_000;
        },
      }),
    close: () => nc.close(),
  };
}

/**
 * Baseline B: core publish with a reply inbox and acks matched by hand, 4,000 in flight; that is
 * @fuze/bus's JetStreamPublisher, used raw here with one precomputed message (unique Nats-Msg-Id).
 */
export async function rawHandMatched(natsUrl: string, prefix: string): Promise<DirectPath> {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const publisher = new JetStreamPublisher(nc);
  const request = encodeEventMessage(prefix, 'default', sampleEvent(), defaultRouting);
  return {
    run: (durationMs) =>
      closedLoop({
        concurrency: 4_000,
        durationMs,
        op: async () => {
          await publisher.publish({ ...request, msgId: `b-${unique++}` });
          return 1;
        },
      }),
    async close() {
      await publisher.close();
      await nc.close();
    },
  };
}

/** The SDK's direct path: `publish` with 2,000 promises in flight, each a new event. */
export function sdkPublish(natsUrl: string, prefix: string): DirectPath {
  const sdk = createPublisher({ natsUrl, streamPrefix: prefix });
  return {
    run: (durationMs) =>
      closedLoop({
        concurrency: 2_000,
        durationMs,
        op: async () => {
          await sdk.publish(sampleInput);
          return 1;
        },
      }),
    close: () => sdk.close(),
  };
}

/** The SDK's direct path: `publishBatch` of 100 new events, 20 batches in flight. */
export function sdkPublishBatch(natsUrl: string, prefix: string): DirectPath {
  const sdk = createPublisher({ natsUrl, streamPrefix: prefix });
  return {
    run: (durationMs) =>
      closedLoop({
        concurrency: 20,
        durationMs,
        op: async () => {
          const { failedCount } = await sdk.publishBatch(Array.from({ length: 100 }, () => sampleInput));
          if (failedCount > 0) throw new Error(`${failedCount} events of a batch failed`);
          return 100;
        },
      }),
    close: () => sdk.close(),
  };
}
