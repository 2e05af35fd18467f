export { type AdminAnswer, callApi } from './admin-api.js';
export { chromiumPath, launchBrowser } from './browser.js';
export {
  type DeliveryInput,
  deliveryEnvelope,
  interleavedDeliveries,
  provisionStreams,
  publishDeliveries,
  readDeadLetters,
} from './deliveries.js';
export { freezeEventLoop } from './freeze-event-loop.js';
export { fuzeBinary } from './fuze-binary.js';
export { runFuzeCli } from './fuze-cli.js';
export { type FuzeProcess, spawnFuze } from './fuze-process.js';
export { type ServedFuze, serveFuze } from './fuze-serve.js';
export { type InProcessFuze, startInProcessFuze } from './in-process-fuze.js';
export { metricValue } from './metrics-text.js';
export { connectTo } from './nats-client.js';
export { type NatsClusterHandle, startNatsCluster } from './nats-cluster.js';
export { type NatsServerHandle, type StartNatsServerOptions, startNatsServer } from './nats-server.js';
export { freePort, freePorts } from './ports.js';
export {
  createTestDatabase,
  type PostgresServerHandle,
  startPostgresServer,
  type TestDatabase,
} from './postgres.js';
export { makeTempDir, removeTempDir } from './processes.js';
export { type ScriptProcess, spawnScript } from './script-process.js';
export { seededRandom } from './seeded-random.js';
export { connectionOwner } from './socket-owner.js';
export { finishedSpansOf, onlySpan, parentIdOf, spanIdOf, spanIdOfSpan, traceIdOf } from './spans.js';
export { readStream, type StoredMessage } from './stream-contents.js';
export { startTestBus, type TestBus } from './test-bus.js';
export { type WaitForOptions, waitFor } from './wait.js';
