import { describe, expect, test } from 'vitest';
import { type DueTimer, TimerSchedule } from '../src/timer-schedule.js';

const due = (at: number, name = 't', key = 'k'): DueTimer => ({ at, partition: 0, key, name });

describe('TimerSchedule', () => {
  test('fires each due timer once, earliest first, whatever the order they were added in', async () => {
    const fired: string[] = [];
    const schedule = new TimerSchedule((d) => fired.push(`${d.key}:${d.name}`));
    const now = Date.now();
    const order = Array.from({ length: 200 }, (_, i) => i).sort(() => Math.random() - 0.5);
    for (const i of order) schedule.add(due(now + i, `t${i}`));
    await new Promise((r) => setTimeout(r, 400));
    expect(fired).toEqual(Array.from({ length: 200 }, (_, i) => `k:t${i}`));
    expect(schedule.size).toBe(0);
    schedule.stop();
  });

  test('one entry per timer: moving it later adds nothing, moving it earlier supersedes the waiting entry', async () => {
    const fired: number[] = [];
    const schedule = new TimerSchedule((d) => fired.push(d.at));
    const now = Date.now();
    schedule.add(due(now + 100));
    for (let i = 1; i <= 1_000; i++) schedule.add(due(now + 100 + i)); // moved later on every event
    expect(schedule.size).toBe(1);
    schedule.add(due(now + 20)); // moved earlier
    await new Promise((r) => setTimeout(r, 250));
    expect(fired).toEqual([now + 20]); // the later entry was superseded, not fired
    schedule.stop();
  });
});
