import { JetStreamPublisher } from '@fuze/bus';
import {
  interleavedDeliveries,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  startNatsServer,
  waitFor,
} from '@fuze/test/harness';
import type { NatsConnection } from '@nats-io/transport-node';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createProcessor } from '../src/index.js';
import { connectTo } from './stream-fixture.js';

// A processor's figures reach the application's OpenTelemetry meter provider.
class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let server: NatsServerHandle;
let nc: NatsConnection;
const reader = new OnDemandReader();

beforeAll(async () => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  server = await startNatsServer();
  nc = await connectTo(server.url);
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
  metrics.disable();
});

async function collected(): Promise<Map<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const values = new Map<string, number>();
  for (const scope of resourceMetrics.scopeMetrics)
    for (const metric of scope.metrics)
      for (const point of metric.dataPoints)
        if (point.attributes['fuze.target'] === 'metered')
          values.set(metric.descriptor.name, point.value as number);
  return values;
}

test('keys held, state bytes, restore time, commits and commit latency are exported as OpenTelemetry metrics', async () => {
  const prefix = await provisionStreams(nc);
  const processor = createProcessor<number>({
    target: 'metered',
    natsUrl: server.url,
    streamPrefix: prefix,
    partitions: 4,
  });
  let handled = 0;
  await processor.handle<{ n: number }>((event, ctx) => {
    ctx.state.set((ctx.state.get() ?? 0) + event.data!.n);
    handled += 1;
  });
  const publisher = new JetStreamPublisher(nc);
  await publishDeliveries(publisher, prefix, 4, interleavedDeliveries('metered', ['a', 'b', 'c'], 4));
  await publisher.close();
  await waitFor(() => handled === 12 && processor.stats().commits === 12, { message: 'twelve commits' });
  const values = await collected();
  expect(values.get('fuze.processor.keys')).toBe(3);
  expect(values.get('fuze.processor.state.size')).toBe(3 * '10'.length); // 1 + 2 + 3 + 4 each
  expect(values.get('fuze.processor.commits')).toBe(12);
  expect(values.get('fuze.processor.commit.duration')).toBeGreaterThan(0);
  expect(values.get('fuze.processor.conflicts')).toBe(0);
  expect(values.has('fuze.processor.restore.duration')).toBe(true);
  await processor.close();
});
