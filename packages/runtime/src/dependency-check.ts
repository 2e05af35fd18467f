/**
 * Orchestrators probe `/readyz` with a short timeout (Kubernetes: 1 s by default). A dependency
 * that hangs, such as a paused NATS server or a Postgres stuck in recovery, must read as "not
 * ready" within that time, not as a probe that never answers.
 */
export const DEPENDENCY_CHECK_TIMEOUT_MS = 800;

/** True when `check` resolves within `timeoutMs`; false when it rejects or takes longer. */
export async function answersWithin(
  check: () => Promise<unknown>,
  timeoutMs = DEPENDENCY_CHECK_TIMEOUT_MS,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      check().then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
