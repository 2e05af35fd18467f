/**
 * `start` run at the first call and shared by every caller until it succeeds; a failed start
 * (NATS away) is tried again at the next call. The flow-control state is watched from its first
 * use on, so a target without limits costs no consumer.
 */
export function startedOnce(start: () => Promise<void>): () => Promise<void> {
  let started: Promise<void> | undefined;
  return () => {
    started ??= start().catch((err: unknown) => {
      started = undefined;
      throw err;
    });
    return started;
  };
}
