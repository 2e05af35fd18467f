import {
  connectNats,
  type EmbeddedNatsServer,
  ensureTopology,
  failoverRequestTimeoutMs,
  findNatsServerBinary,
  JetStreamPublisher,
  natsAnswers,
  natsMissingError,
  RoutingTable,
  startEmbeddedNatsServer,
  whileUnavailable,
} from '@fuze/bus';
import type { FuzeConfig, Logger } from '@fuze/core';
import { findApiKey, openDatabase } from '@fuze/db';
import { createTokenAuthenticator } from '@fuze/http';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { answersWithin } from './dependency-check.js';
import type { ServiceContext } from './service-module.js';

export type Infrastructure = Omit<ServiceContext, 'logger'> & { stop(): Promise<void> };

/**
 * NATS (starting an embedded nats-server on a laptop when nothing answers at the default URL),
 * the JetStream topology, the shared publisher and the database, in that order.
 */
export async function startInfrastructure(
  config: FuzeConfig,
  logger: Logger,
  name: string,
): Promise<Infrastructure> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => logger.error({ err }, 'error while stopping'));
  };
  try {
    let embedded: EmbeddedNatsServer | undefined;
    if (config.nats.urlIsDefault && !(await natsAnswers(config.nats.url))) {
      const binary = config.nats.embedded === 'auto' ? findNatsServerBinary() : undefined;
      if (!binary) throw natsMissingError(config.nats.url);
      embedded = await startEmbeddedNatsServer({
        binary,
        url: config.nats.url,
        dataDir: config.dataDir,
        logger,
      });
      stops.push(() => embedded!.stop());
    }
    const nats = await connectNats({ url: config.nats.url, name, logger });
    stops.push(async () => {
      if (!nats.isClosed()) await nats.drain();
    });
    const natsVersion = nats.info?.version ?? 'unknown';
    logger.info({ natsVersion }, 'connected to NATS');
    if (config.streams.replicas > 1 && /^2\.[0-9]\./.test(natsVersion))
      logger.warn(
        { natsVersion, replicas: config.streams.replicas },
        'nats-server before 2.10 runs replicated streams, but a 2.9 cluster lost stream quorum after a node restart in our drills; run 2.10 or later in production (docs/operations.md, "NATS in production")',
      );
    const jsm = await jetstreamManager(nats);
    const streams = await whileUnavailable(
      'provisioning streams and buckets',
      () => ensureTopology(jsm, config.streams, logger),
      logger,
    );
    const routing = await whileUnavailable(
      'reading the routing settings',
      () => RoutingTable.open(nats, config.streams.prefix, logger),
      logger,
    );
    stops.push(async () => routing.close());
    // A publish sent to a stream electing its leader is not answered: resent after 1.5 s, not 5
    // (the same Nats-Msg-Id, deduped; a router shard waited 5 s on one in a node-kill drill).
    const publisher = new JetStreamPublisher(nats, { ackTimeoutMs: failoverRequestTimeoutMs });
    stops.push(() => publisher.close());

    const database = await openDatabase({ url: config.database.url, dataDir: config.dataDir });
    stops.push(() => database.close());
    logger.info({ driver: database.driver, nats: config.nats.url }, 'infrastructure ready');

    const authenticator = createTokenAuthenticator({
      adminToken: config.auth.adminToken,
      findApiKey: (id) => findApiKey(database.db, id),
    });
    // Both checks run at once, each bounded, so a hung dependency answers 503 in time.
    const readiness = async () => {
      const [natsReady, postgresReady] = await Promise.all([
        nats.isClosed() ? Promise.resolve(false) : answersWithin(() => nats.flush()),
        answersWithin(() => database.ping()),
      ]);
      return { nats: natsReady, postgres: postgresReady };
    };
    return {
      config,
      nats,
      js: jetstream(nats),
      jsm,
      streams,
      publisher,
      routing,
      database,
      authenticator,
      readiness,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
