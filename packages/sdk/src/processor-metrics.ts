import { type BatchObservableResult, metrics } from '@opentelemetry/api';
import type { ProcessorStats } from './processor.js';

/**
 * Exports a processor's figures as OpenTelemetry metrics, read when the application's meter
 * provider collects (nothing is recorded without one). Returns the function that stops it.
 */
export function observeProcessor(target: string, stats: () => ProcessorStats): () => void {
  const meter = metrics.getMeter('@fuze/sdk');
  const keys = meter.createObservableGauge('fuze.processor.keys', {
    description: 'Partition keys whose state this process holds',
  });
  const bytes = meter.createObservableGauge('fuze.processor.state.size', {
    description: 'Bytes of JSON of the states this process holds',
    unit: 'By',
  });
  const restore = meter.createObservableGauge('fuze.processor.restore.duration', {
    description: 'How long the last restore of a gained partition took',
    unit: 'ms',
  });
  const commits = meter.createObservableCounter('fuze.processor.commits', {
    description: 'State changes committed (each before its event was acked)',
  });
  const commitLatency = meter.createObservableGauge('fuze.processor.commit.duration', {
    description: 'Mean time from sending a state commit to its confirmation',
    unit: 'ms',
  });
  const conflicts = meter.createObservableCounter('fuze.processor.conflicts', {
    description: 'Commits refused because another owner had committed the key since (retried)',
  });
  const observables = [keys, bytes, restore, commits, commitLatency, conflicts];
  const attributes = { 'fuze.target': target };
  const callback = (result: BatchObservableResult) => {
    const now = stats();
    result.observe(keys, now.keys, attributes);
    result.observe(bytes, now.stateBytes, attributes);
    result.observe(restore, now.lastRestoreMs, attributes);
    result.observe(commits, now.commits, attributes);
    result.observe(commitLatency, now.meanCommitMs, attributes);
    result.observe(conflicts, now.conflicts, attributes);
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
