/**
 * One replay job as the worker runs it, page by page: dead letters (dead-letter-pages.ts) or a
 * window of the events stream (archive/archive-pages.ts). The worker takes a page, waits for its
 * rate limit, then replays it; a page is stored before `replay` resolves, so a job resumed by
 * another worker goes on after the last stored page.
 */
export interface ReplayPages {
  /** The next page of at most `size` items, or undefined when none is left. */
  take(size: number): Promise<ReplayPage | undefined>;
  /** Releases what the pages hold (a consumer). */
  close(): Promise<void>;
}

export interface ReplayPage {
  /** Items in the page (what the rate limit counts). */
  readonly size: number;
  /** Publishes the page and stores its outcome. */
  replay(): Promise<void>;
}

/** The job as a whole cannot go on (not one entry): it ends `failed`. */
export class ReplayJobError extends Error {
  override readonly name = 'ReplayJobError';
}
