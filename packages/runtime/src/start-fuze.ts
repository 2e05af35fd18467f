import type { FuzeConfig, Logger } from '@fuze/core';
import { type Infrastructure, startInfrastructure } from './infrastructure.js';
import { startOpsServer } from './ops-server.js';
import { type RunningService, type ServiceModule, serviceNames } from './service-module.js';

export interface RunningFuze {
  readonly services: readonly string[];
  /** Stops services upstream first (gateway before router before dispatcher...), then infrastructure. */
  stop(): Promise<void>;
}

/**
 * Starts the given service modules in one process over shared infrastructure.
 * Downstream services start first, so the gateway only accepts events once the rest is up.
 */
export async function startFuze(options: {
  config: FuzeConfig;
  logger: Logger;
  modules: readonly ServiceModule[];
  /** Runs once the infrastructure is up, before any service starts (e.g. `serve --rules`). */
  prepare?: (infrastructure: Infrastructure) => Promise<void>;
}): Promise<RunningFuze> {
  const modules = [...options.modules].sort(
    (a, b) => serviceNames.indexOf(b.name) - serviceNames.indexOf(a.name),
  );
  const names = modules.map((m) => m.name);
  const infrastructure = await startInfrastructure(options.config, options.logger, `fuze-${names.join('-')}`);
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
    await infrastructure.stop();
    options.logger.info('stopped');
  };
  try {
    await options.prepare?.(infrastructure);
    ops = await startOpsServer({
      host: options.config.http.host,
      port: options.config.http.metricsPort,
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
