import { type FuzeProcess, spawnFuze } from './fuze-process.js';
import { freePorts } from './ports.js';

export interface ServedFuze {
  process: FuzeProcess;
  gatewayUrl: string;
  adminUrl: string;
  /** The ops port: /healthz, /readyz, /metrics. */
  opsUrl: string;
  /** SIGTERM and wait for the exit, if it still runs. */
  stop(): Promise<void>;
}

/**
 * `fuze serve` (every service) as a child process on free ports, once it logs that it runs.
 * `env` adds FUZE_* variables (NATS, database, data dir, prefix...); the ports are chosen here.
 */
export async function serveFuze(env: Record<string, string>, startTimeoutMs = 120_000): Promise<ServedFuze> {
  const [gateway, admin, ops] = (await freePorts(3)) as [number, number, number];
  const fuze = spawnFuze(['serve'], {
    FUZE_GATEWAY_PORT: String(gateway),
    FUZE_ADMIN_PORT: String(admin),
    FUZE_METRICS_PORT: String(ops),
    FUZE_LOG_LEVEL: 'info', // "fuze is running" is an info line
    ...env,
  });
  await fuze.waitForLog('fuze is running', startTimeoutMs);
  return {
    process: fuze,
    gatewayUrl: `http://127.0.0.1:${gateway}`,
    adminUrl: `http://127.0.0.1:${admin}`,
    opsUrl: `http://127.0.0.1:${ops}`,
    async stop() {
      if (fuze.child.exitCode !== null || fuze.child.signalCode !== null) return;
      fuze.child.kill('SIGTERM');
      await fuze.exited;
    },
  };
}
