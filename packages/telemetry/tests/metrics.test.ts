import { afterEach, describe, expect, test } from 'vitest';
import {
  fuzeMetrics,
  readStreamStats,
  renderMetrics,
  type StreamStats,
  setStreamStatsReader,
} from '../src/index.js';

afterEach(() => setStreamStatsReader(undefined));

const stats: StreamStats = {
  consumers: [{ stream: 'FUZE_EVENTS', consumer: 'router-0', lag: 7 }],
  deadLetters: [{ target: 'billing', depth: 2 }],
};

describe('metrics registry', () => {
  test('every metric of the issue is defined once, with help and labels', async () => {
    const { contentType, body } = await renderMetrics();
    expect(contentType).toContain('text/plain');
    for (const [name, type] of [
      ['fuze_events_accepted_total', 'counter'],
      ['fuze_events_rejected_total', 'counter'],
      ['fuze_events_duplicates_total', 'counter'],
      ['fuze_events_matched_total', 'counter'],
      ['fuze_events_unmatched_total', 'counter'],
      ['fuze_deliveries_total', 'counter'],
      ['fuze_delivery_retries_total', 'counter'],
      ['fuze_dead_lettered_total', 'counter'],
      ['fuze_replayed_total', 'counter'],
      ['fuze_delivery_latency_seconds', 'histogram'],
      ['fuze_consumer_lag', 'gauge'],
      ['fuze_dlq_depth', 'gauge'],
    ]) {
      expect(body).toMatch(new RegExp(`# HELP ${name} \\S`));
      expect(body).toMatch(new RegExp(`# TYPE ${name} ${type}`));
    }
  });

  test('counters and the latency histogram carry their labels', async () => {
    fuzeMetrics.eventsMatched.inc({ bus: 'default', rule: 'orders' });
    fuzeMetrics.deliveries.inc({ target: 'billing', outcome: 'delivered' });
    fuzeMetrics.deliveryLatency.observe({ target: 'billing' }, 0.2);
    const { body } = await renderMetrics();
    expect(body).toContain('fuze_events_matched_total{bus="default",rule="orders"} 1');
    expect(body).toContain('fuze_deliveries_total{target="billing",outcome="delivered"} 1');
    expect(body).toContain('fuze_delivery_latency_seconds_bucket{le="0.25",target="billing"} 1');
  });

  test('stream gauges are read from the reader at scrape time, one read shared by both gauges', async () => {
    let reads = 0;
    setStreamStatsReader(async () => {
      reads++;
      return stats;
    });
    const { body } = await renderMetrics();
    expect(body).toContain('fuze_consumer_lag{stream="FUZE_EVENTS",consumer="router-0"} 7');
    expect(body).toContain('fuze_dlq_depth{target="billing"} 2');
    await renderMetrics();
    expect(reads).toBe(1); // cached between scrapes
  });

  test('a failing reader yields no gauge values (and no failed scrape); the next scrape tries again', async () => {
    const errors: unknown[] = [];
    let fail = true;
    setStreamStatsReader(
      async () => {
        if (fail) throw new Error('NATS is down');
        return stats;
      },
      { onError: (err) => errors.push(err) },
    );
    const { body } = await renderMetrics();
    expect(body).not.toContain('fuze_dlq_depth{');
    expect(errors).toHaveLength(1);
    fail = false;
    expect(await readStreamStats()).toEqual(stats);
  });
});
