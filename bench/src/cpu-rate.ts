/** Throughput of one timed run, by wall clock and by this process's CPU time. */
export interface CpuRate {
  readonly wall: number;
  readonly cpu: number;
}

/**
 * Runs `batch` (which processes some events and returns how many) for about `ms`, synchronously.
 * CPU time is reported too: on a shared machine it tracks the work done where wall time tracks
 * the neighbours.
 */
export function timedCpuRate(ms: number, batch: () => number): CpuRate {
  let count = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    count += batch();
    now = performance.now();
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (count * 1000) / (now - start), cpu: (count * 1e6) / (cpu.user + cpu.system) };
}
