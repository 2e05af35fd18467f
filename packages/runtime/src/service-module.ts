import type { JetStreamPublisher } from '@fuze/bus';
import type { EventRouting, FuzeConfig, PinoLogger, StreamNames } from '@fuze/core';
import type { Database } from '@fuze/db';
import type { Authenticator, ReadinessProbe } from '@fuze/http';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export const serviceNames = ['gateway', 'router', 'dispatcher', 'scheduler', 'admin'] as const;
export type ServiceName = (typeof serviceNames)[number];

/** What a service may use. Started once per process and shared by every service in it. */
export interface ServiceContext {
  readonly config: FuzeConfig;
  /** Bound to `service: <name>`. */
  readonly logger: PinoLogger;
  readonly nats: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly streams: StreamNames;
  readonly publisher: JetStreamPublisher;
  /** How publishers here choose an event's routing shard (a `RoutingTable`, kept current). */
  readonly routing: EventRouting;
  readonly database: Database;
  readonly authenticator: Authenticator;
  readonly readiness: ReadinessProbe;
}

/** A running service: `stop()` drains in-flight work (nothing acked is lost) and resolves. */
export interface RunningService {
  stop(): Promise<void>;
}

/**
 * One Fuze service (Loki's "module"): a name and a start function. Every service uses NATS and
 * the database, which the process opens once for all; services talk to each other only through
 * NATS, so none waits for another. `fuze serve` starts the selected modules in the order of
 * `serviceNames` reversed (downstream first) and stops them in the opposite order.
 */
export interface ServiceModule {
  readonly name: ServiceName;
  start(context: ServiceContext): Promise<RunningService>;
}
