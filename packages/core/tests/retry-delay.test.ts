import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../src/time/retry-delay.js';

describe('retryDelayMs', () => {
  it('doubles from the first pause to the cap, each draw between half and all of it', () => {
    const ceilings = [100, 200, 400, 800, 1_000, 1_000];
    for (const [i, ceiling] of ceilings.entries()) {
      const draws = Array.from({ length: 200 }, () => retryDelayMs(i + 1, 100, 1_000));
      for (const draw of draws) {
        expect(draw).toBeGreaterThanOrEqual(ceiling / 2);
        expect(draw).toBeLessThanOrEqual(ceiling);
      }
      // Jittered: 200 draws are not one value, and they use most of the range.
      expect(new Set(draws).size).toBeGreaterThan(1);
      expect(Math.max(...draws) - Math.min(...draws)).toBeGreaterThan(ceiling / 4);
    }
  });

  it('stays finite and capped after any number of failures, and treats 0 as the first', () => {
    expect(retryDelayMs(10_000, 250, 5_000)).toBeLessThanOrEqual(5_000);
    expect(retryDelayMs(10_000, 250, 5_000)).toBeGreaterThanOrEqual(2_500);
    expect(retryDelayMs(0, 250, 5_000)).toBeLessThanOrEqual(250);
  });
});
