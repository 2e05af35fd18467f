import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, `N passed, N failed, N skipped`, which CI logs and tools that
 * do not know vitest's own summary can read. The counts are vitest's own ("Tests  4 failed | 681
 * passed | 31 skipped"): a test that never ran because its file's hook or import failed is
 * skipped there and here. Such a file fails the run all the same (vitest exits non-zero), and the
 * line before the closing one says so, so "0 failed" never reads as a clean run by itself.
 */
export default class SummaryLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const filesFailedOutsideTests: string[] = [];
    for (const module of testModules) {
      let failedTests = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') {
          counts.failed++;
          failedTests++;
        } else counts.skipped++;
      }
      if (module.state() === 'failed' && failedTests === 0) filesFailedOutsideTests.push(module.moduleId);
    }
    if (filesFailedOutsideTests.length > 0)
      console.log(
        `\n${filesFailedOutsideTests.length} test file(s) failed outside their tests (a hook, an import or a worker): ${filesFailedOutsideTests.join(', ')}`,
      );
    console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  }
}
