export { Checkpoint } from './checkpoint.js';
export { isWrongLastSequence } from './compare-and-swap.js';
export { type ConnectOptions, connectNats, natsAnswers } from './connect.js';
export {
  type EmbeddedNatsServer,
  findNatsServerBinary,
  type LaunchedNatsServer,
  launchNatsServer,
  type NatsServerPlacement,
  natsMissingError,
  natsServerArgs,
  startEmbeddedNatsServer,
} from './embedded-server.js';
export { failoverRequestTimeoutMs, pullHeartbeatMs } from './failover-timing.js';
export {
  bucketNames,
  ensureBuckets,
  openCheckpointBucket,
  openFlowBucket,
  openLeaseBuckets,
  openRoutingBucket,
} from './kv-buckets.js';
export { type LeaseFence, openFence } from './lease-fence.js';
export {
  type LeaseBuckets,
  leaseTtlMs,
  PartitionLeases,
  type PartitionLeasesOptions,
  type PartitionOwner,
} from './partition-leases.js';
export {
  bindStateBucket,
  decodeStoredState,
  encodeStoredState,
  type HeldState,
  maxStateBytes,
  openStateBucket,
  parseStateKey,
  putStateIfRevision,
  readPartitionStates,
  type StoredState,
  stateBucketName,
  stateKey,
  stateKeyInAnyPartition,
} from './processor-state.js';
export {
  JetStreamPublisher,
  type PublishAck,
  type PublishCallOptions,
  type PublisherOptions,
  type PublishRequest,
} from './publisher.js';
export { openResumableDurable, type ResumableDurableOptions } from './resumable-durable.js';
export {
  type BusRouting,
  busRoutingKey,
  publishBusRouting,
  RoutingTable,
  recordRoutingShards,
  routingShardsKey,
} from './routing-table.js';
export {
  type PublishedTargetSettings,
  publishTargetSettings,
  readTargetSettings,
  targetSettingsKey,
} from './target-settings.js';
export { desiredStreams, ensureTopology } from './topology.js';
export { isJetStreamUnavailable, whileUnavailable } from './while-unavailable.js';
export {
  perSecond,
  readWorkerReports,
  sumOf,
  WorkerReporter,
  type WorkerReporterOptions,
} from './worker-reports.js';
