/**
 * One replay job as the worker runs it, page by page: dead letters (dead-letter-pages.ts) or a
 * window of the events stream (archive/archive-pages.ts). A page is stored before `next` resolves,
 * so a job resumed by another worker goes on after the last stored page.
 */
export interface ReplayPages {
  /** Replays the next page of at most `size` items: how many it took, or undefined when none is left. */
  next(size: number): Promise<number | undefined>;
  /** Releases what the pages hold (a consumer). */
  close(): Promise<void>;
}

/** The job as a whole cannot go on (not one entry): it ends `failed`. */
export class ReplayJobError extends Error {
  override readonly name = 'ReplayJobError';
}
