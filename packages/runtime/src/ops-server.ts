import { dlqSubject, type PinoLogger, type StreamNames, subjectRoot } from '@fuze/core';
import { createHttpApp, healthRoutes, type ReadinessProbe } from '@fuze/http';
import { renderMetrics, type StreamStats, type StreamStatsReader } from '@fuze/telemetry';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import type { FastifyInstance } from 'fastify';

/**
 * One small HTTP server per process on FUZE_METRICS_PORT: `/healthz`, `/readyz` and `/metrics`
 * (Prometheus text format: every service of the process in one registry), so services without an
 * API of their own (router, dispatcher, scheduler) can be health-checked and scraped.
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  requestTimeoutMs?: number;
  logger: PinoLogger;
  readiness: ReadinessProbe;
  extend?: (app: FastifyInstance) => void;
}): Promise<{ address: string; stop(): Promise<void> }> {
  const app = createHttpApp({ logger: options.logger, requestTimeoutMs: options.requestTimeoutMs });
  app.register(healthRoutes, { readiness: options.readiness });
  app.register(metricsRoute);
  options.extend?.(app);
  const address = await app.listen({ host: options.host, port: options.port });
  return { address, stop: () => app.close() };
}

/** `GET /metrics`: the process's Prometheus registry (@fuze/telemetry's `fuzeMetrics`). */
export async function metricsRoute(app: FastifyInstance): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await renderMetrics();
    return reply.type(contentType).send(body);
  });
}

/**
 * Reads what the stream gauges show: every consumer of the events, delayed, delivery and
 * dead-letter streams with its lag (pending + unacknowledged), and the dead letters per target
 * (message count per `<p>.dlq.<target>` subject). A few JetStream API calls; the telemetry
 * package caches the result between scrapes.
 */
export function jetStreamStatsReader(
  jsm: JetStreamManager,
  streams: StreamNames,
  prefix: string,
): StreamStatsReader {
  const dlqRoot = `${subjectRoot(prefix)}.dlq.`;
  return async () => {
    const stats: StreamStats = { consumers: [], deadLetters: [] };
    for (const stream of [streams.events, streams.delayed, streams.delivery, streams.dlq]) {
      try {
        for await (const info of jsm.consumers.list(stream)) {
          stats.consumers.push({ stream, consumer: info.name, lag: info.num_pending + info.num_ack_pending });
        }
      } catch (err) {
        if (!isStreamNotFound(err)) throw err; // a stream this deployment does not have: nothing to show
      }
    }
    const dlq = await jsm.streams.info(streams.dlq, { subjects_filter: dlqSubject(prefix, '>') });
    for (const [subject, depth] of Object.entries(dlq.state.subjects ?? {})) {
      if (subject.startsWith(dlqRoot))
        stats.deadLetters.push({ target: subject.slice(dlqRoot.length), depth });
    }
    return stats;
  };
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}
