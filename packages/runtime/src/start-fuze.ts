import type { FuzeConfig, PinoLogger } from '@fuze/core';
import { collectProcessMetrics, setStreamStatsReader, startTelemetry, type Telemetry } from '@fuze/telemetry';
import { type Infrastructure, startInfrastructure } from './infrastructure.js';
import { assertPortsFree } from './listen-ports.js';
import { jetStreamStatsReader, startOpsServer } from './ops-server.js';
import { type RunningService, type ServiceModule, serviceNames } from './service-module.js';

export interface RunningFuze {
  readonly services: readonly string[];
  /** Stops services upstream first (gateway before router before dispatcher...), then infrastructure. */
  stop(): Promise<void>;
}

/**
 * Starts the given service modules in one process over shared infrastructure.
 * Downstream services start first, so the gateway only accepts events once the rest is up.
 * Tracing starts first (as OTEL_* say; nothing when no exporter is configured) and is flushed last;
 * the ops server serves `/metrics` for every service of the process.
 */
export async function startFuze(options: {
  config: FuzeConfig;
  logger: PinoLogger;
  modules: readonly ServiceModule[];
  /** Runs once the infrastructure is up, before any service starts (e.g. `serve --rules`). */
  prepare?: (infrastructure: Infrastructure) => Promise<void>;
}): Promise<RunningFuze> {
  const modules = [...options.modules].sort(
    (a, b) => serviceNames.indexOf(b.name) - serviceNames.indexOf(a.name),
  );
  const names = modules.map((m) => m.name);
  await assertPortsFree(options.config, names);
  const telemetry = await startTelemetry({
    serviceName: telemetryServiceName(names),
    logger: options.logger,
  });
  let infrastructure: Infrastructure;
  try {
    infrastructure = await startInfrastructure(options.config, options.logger, `fuze-${names.join('-')}`);
  } catch (err) {
    await telemetry.shutdown();
    throw err;
  }
  const running: Array<{ name: string; service: RunningService }> = [];
  let ops: { stop(): Promise<void> } | undefined;
  const stop = async () => {
    for (const { name, service } of running.reverse()) {
      options.logger.info({ service: name }, 'stopping');
      await service
        .stop()
        .catch((err) => options.logger.error({ err, service: name }, 'error while stopping'));
    }
    await ops?.stop();
    setStreamStatsReader(undefined);
    await infrastructure.stop();
    await stopTelemetry(telemetry, options.logger);
    options.logger.info('stopped');
  };
  try {
    await options.prepare?.(infrastructure);
    collectProcessMetrics();
    setStreamStatsReader(
      jetStreamStatsReader(infrastructure.jsm, infrastructure.streams, options.config.streams.prefix),
      { onError: (err) => options.logger.warn({ err }, 'cannot read stream stats for /metrics') },
    );
    ops = await startOpsServer({
      host: options.config.http.host,
      port: options.config.http.metricsPort,
      requestTimeoutMs: options.config.http.requestTimeoutMs,
      logger: options.logger.child({ service: 'ops' }),
      readiness: infrastructure.readiness,
    });
    for (const module of modules) {
      const logger = options.logger.child({ service: module.name });
      running.push({ name: module.name, service: await module.start({ ...infrastructure, logger }) });
      logger.info('started');
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { services: names, stop };
}

/** `service.name` unless OTEL_SERVICE_NAME says otherwise: `fuze` for all services, else `fuze-gateway-router`. */
function telemetryServiceName(names: readonly string[]): string {
  if (serviceNames.every((n) => names.includes(n))) return 'fuze';
  return `fuze-${serviceNames.filter((n) => names.includes(n)).join('-')}`;
}

async function stopTelemetry(telemetry: Telemetry, logger: PinoLogger): Promise<void> {
  await telemetry.shutdown().catch((err) => logger.warn({ err }, 'error while flushing traces'));
}
