/**
 * The pause before retrying after `failures` failures in a row (1 for the first): `firstMs`,
 * doubled with each further failure up to `maxMs`, then jittered to between half and all of that
 * ("equal jitter"). The jitter is why this exists once: processes that lost the same server must
 * not all come back at the same moment, and a fixed period can keep landing in the down half of a
 * service that flaps (seen in a drill: 70 s without a timer firing while Postgres was up half the
 * time). Targets' own retries follow their rule's retry policy instead (delivery's backoff).
 */
export function retryDelayMs(failures: number, firstMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(0, failures - 1), 30));
  return ceiling * (0.5 + Math.random() / 2);
}
