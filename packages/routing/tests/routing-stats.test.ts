import { createLogger } from '@fuze/core';
import { expect, test } from 'vitest';
import { type RouterWorkerStats, RoutingStats } from '../src/index.js';

test('reports the growth of the router’s counters as rates; what was routed before start is not counted', async () => {
  const perBus = new Map([['orders', 1_000]]);
  const perRule = new Map([['orders/billing', 400]]);
  const puts: Array<{ key: string; report: RouterWorkerStats }> = [];
  const stats = new RoutingStats({
    kv: {
      put: async (key: string, value: string) => {
        puts.push({ key, report: JSON.parse(value) as RouterWorkerStats });
        return 0;
      },
    },
    memberId: 'r1',
    counts: () => ({ perBus, perRule }),
    intervalMs: 50,
    logger: createLogger('silent'),
  });
  stats.start();
  perBus.set('orders', 1_100);
  perBus.set('payments', 20);
  perRule.set('orders/billing', 450);
  while (puts.length === 0) await new Promise((r) => setTimeout(r, 10));
  stats.stop();
  const [{ key, report }] = puts as [(typeof puts)[0]];
  expect(key).toBe('routing.r1');
  // Rates over one interval, whatever its length: 100 orders, 20 payments, 50 billing matches.
  const orders = report.eventsPerSecond.orders!;
  expect(orders).toBeGreaterThan(0);
  expect(report.eventsPerSecond.payments! / orders).toBeCloseTo(0.2, 1);
  expect(report.matchedPerSecond['orders/billing']! / orders).toBeCloseTo(0.5, 1);
});
