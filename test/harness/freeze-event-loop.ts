/**
 * Holds this process's event loop for `ms`, as a stopped (SIGSTOP) or starved process would: no
 * timer, I/O callback or promise of this process runs meanwhile.
 */
export function freezeEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else of this process runs
  }
}
