import { createLogger, type FuzeConfig, loadConfig } from '@fuze/core';
import { type RunningFuze, type ServiceModule, startFuze } from '@fuze/runtime';
import { freePort } from './ports.js';
import { makeTempDir, removeTempDir } from './processes.js';

export interface InProcessFuze {
  config: FuzeConfig;
  gatewayUrl: string;
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * `fuze serve --services <modules>` inside the test process (Loki's integration-test style):
 * its own data dir and ports, the given NATS, PGlite unless FUZE_DATABASE_URL is in `env`.
 */
export async function startInProcessFuze(options: {
  modules: readonly ServiceModule[];
  natsUrl: string;
  env?: Record<string, string>;
}): Promise<InProcessFuze> {
  const dataDir = await makeTempDir('fuze-inproc-');
  const [gatewayPort, adminPort] = [await freePort(), await freePort()];
  const config = loadConfig({
    FUZE_NATS_URL: options.natsUrl,
    FUZE_DATA_DIR: dataDir,
    FUZE_GATEWAY_PORT: String(gatewayPort),
    FUZE_ADMIN_PORT: String(adminPort),
    FUZE_METRICS_PORT: '0',
    FUZE_LOG_LEVEL: 'warn',
    ...options.env,
  });
  let fuze: RunningFuze;
  try {
    fuze = await startFuze({ config, logger: createLogger(config.log.level), modules: options.modules });
  } catch (err) {
    await removeTempDir(dataDir);
    throw err;
  }
  return {
    config,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    async stop() {
      await fuze.stop();
      await removeTempDir(dataDir);
    },
  };
}
