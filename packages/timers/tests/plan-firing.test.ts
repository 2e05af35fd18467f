import { describe, expect, test } from 'vitest';
import { armSchedule, MAX_FIRINGS_PER_CLAIM, planFiring, type ResolvedSchedule } from '../src/index.js';

const t0 = Date.parse('2030-01-01T00:00:00Z');
const rate: ResolvedSchedule = { kind: 'rate', rateMs: 1_000 };
const grace = 5_000;

describe('armSchedule', () => {
  test('at, delay (against the given clock), rate (one period after), cron', () => {
    expect(armSchedule({ kind: 'at', at: '2030-01-02T00:00:00.000Z' }, t0)).toEqual({
      schedule: { kind: 'at', at: '2030-01-02T00:00:00.000Z' },
      nextFireAtMs: Date.parse('2030-01-02T00:00:00Z'),
    });
    expect(armSchedule({ kind: 'delay', delayMs: 30_000 }, t0)).toEqual({
      schedule: { kind: 'at', at: '2030-01-01T00:00:30.000Z', delayMs: 30_000 },
      nextFireAtMs: t0 + 30_000,
    });
    expect(armSchedule({ kind: 'rate', rateMs: 60_000 }, t0).nextFireAtMs).toBe(t0 + 60_000);
    expect(armSchedule({ kind: 'cron', cron: '0 9 * * *', timezone: 'Europe/Paris' }, t0).nextFireAtMs).toBe(
      Date.parse('2030-01-01T08:00:00Z'),
    );
  });
});

describe('planFiring', () => {
  test('on time: fires the due time and moves to the next', () => {
    expect(
      planFiring({ schedule: rate, misfire: 'fire-once', misfireGraceMs: grace, dueMs: t0 }, t0 + 3),
    ).toEqual({
      fire: [t0],
      nextFireAtMs: t0 + 1_000,
      misfired: false,
    });
  });

  test('a one-shot timer fires and is done', () => {
    const at: ResolvedSchedule = { kind: 'at', at: new Date(t0).toISOString() };
    expect(
      planFiring({ schedule: at, misfire: 'fire-once', misfireGraceMs: grace, dueMs: t0 }, t0 + 10),
    ).toEqual({
      fire: [t0],
      nextFireAtMs: undefined,
      misfired: false,
    });
  });

  test('late within the grace: the due times already come all fire (a short catch-up)', () => {
    const plan = planFiring(
      { schedule: rate, misfire: 'skip', misfireGraceMs: grace, dueMs: t0 },
      t0 + 3_500,
    );
    expect(plan.fire).toEqual([t0, t0 + 1_000, t0 + 2_000, t0 + 3_000]);
    expect(plan.nextFireAtMs).toBe(t0 + 4_000);
    expect(plan.misfired).toBe(false);
  });

  describe('later than the grace (a misfire)', () => {
    const now = t0 + 60_500;
    test('fire-once: the first missed due time fires once; the next is the first after now, in phase', () => {
      expect(
        planFiring({ schedule: rate, misfire: 'fire-once', misfireGraceMs: grace, dueMs: t0 }, now),
      ).toEqual({
        fire: [t0],
        nextFireAtMs: t0 + 61_000,
        misfired: true,
      });
    });

    test('skip: nothing fires; the next is the first after now', () => {
      expect(planFiring({ schedule: rate, misfire: 'skip', misfireGraceMs: grace, dueMs: t0 }, now)).toEqual({
        fire: [],
        nextFireAtMs: t0 + 61_000,
        misfired: true,
      });
    });

    test('fire-all: every missed due time fires, oldest first, at most a claim-full at a time', () => {
      const plan = planFiring({ schedule: rate, misfire: 'fire-all', misfireGraceMs: grace, dueMs: t0 }, now);
      expect(plan.fire).toEqual(Array.from({ length: 61 }, (_, i) => t0 + i * 1_000));
      expect(plan.nextFireAtMs).toBe(t0 + 61_000);
      const long = planFiring(
        { schedule: rate, misfire: 'fire-all', misfireGraceMs: grace, dueMs: t0 },
        t0 + 3_600_000,
      );
      expect(long.fire).toHaveLength(MAX_FIRINGS_PER_CLAIM);
      expect(long.nextFireAtMs).toBe(t0 + MAX_FIRINGS_PER_CLAIM * 1_000); // still due: the next claim goes on
    });

    test('skip on a one-shot timer completes it without firing', () => {
      const at: ResolvedSchedule = { kind: 'at', at: new Date(t0).toISOString() };
      expect(planFiring({ schedule: at, misfire: 'skip', misfireGraceMs: grace, dueMs: t0 }, now)).toEqual({
        fire: [],
        nextFireAtMs: undefined,
        misfired: true,
      });
    });

    test('the events fired depend on the stored due time only, not on when the claim runs', () => {
      const a = planFiring({ schedule: rate, misfire: 'fire-once', misfireGraceMs: grace, dueMs: t0 }, now);
      const b = planFiring(
        { schedule: rate, misfire: 'fire-once', misfireGraceMs: grace, dueMs: t0 },
        now + 7_300,
      );
      expect(a.fire).toEqual(b.fire);
    });
  });
});
