import { JetStreamPublisher } from '@fuze/bus';
import { createLogger, type PinoLogger } from '@fuze/core';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type NatsServerHandle, startNatsServer } from './nats-server.js';

/** A private nats-server with a connection, JetStream handles and a Fuze publisher. */
export interface TestBus {
  nats: NatsServerHandle;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  publisher: JetStreamPublisher;
  /** Silent unless FUZE_TEST_LOG=1. */
  logger: PinoLogger;
  close(): Promise<void>;
}

export async function startTestBus(): Promise<TestBus> {
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const publisher = new JetStreamPublisher(nc);
  return {
    nats,
    nc,
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    publisher,
    logger: createLogger(process.env.FUZE_TEST_LOG === '1' ? 'debug' : 'silent'),
    async close() {
      await publisher.close();
      await nc.close();
      await nats[Symbol.asyncDispose]();
    },
  };
}
