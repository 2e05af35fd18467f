export { type NatsServerHandle, type StartNatsServerOptions, startNatsServer } from './nats-server.js';
export {
  createTestDatabase,
  type PostgresServerHandle,
  startPostgresServer,
  type TestDatabase,
} from './postgres.js';
export { type WaitForOptions, waitFor } from './wait.js';
export { type FuzeProcess, fuzeBin, spawnFuze } from './fuze-process.js';
