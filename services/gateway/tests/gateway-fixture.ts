import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminModule } from '@fuze/admin';
import { createLogger, loadConfig, streamNames } from '@fuze/core';
import { gatewayModule } from '@fuze/gateway';
import { type RunningFuze, startFuze } from '@fuze/runtime';
import {
  freePort,
  makeTempDir,
  type NatsServerHandle,
  removeTempDir,
  startNatsServer,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export const orderSchema = {
  type: 'object',
  required: ['orderId', 'total'],
  properties: { orderId: { type: 'string' }, total: { type: 'number', minimum: 0 } },
};

export interface GatewayFixture {
  gatewayUrl: string;
  adminUrl: string;
  eventsStream: string;
  nc: NatsConnection;
  nats: NatsServerHandle;
  close(): Promise<void>;
}

/** gateway + admin in-process (as `fuze serve --services gateway,admin`) on a private nats-server. */
export async function startGatewayFixture(env: Record<string, string> = {}): Promise<GatewayFixture> {
  const nats = await startNatsServer();
  const dataDir = await makeTempDir('fuze-gateway-');
  const schemasDir = await makeTempDir('fuze-schemas-');
  writeFileSync(join(schemasDir, 'com.example.order.placed.json'), JSON.stringify(orderSchema));
  const [gatewayPort, adminPort] = [await freePort(), await freePort()];
  const prefix = 'GWTEST';
  const config = loadConfig({
    FUZE_NATS_URL: nats.url,
    FUZE_DATA_DIR: dataDir,
    FUZE_SCHEMAS_DIR: schemasDir,
    FUZE_GATEWAY_PORT: String(gatewayPort),
    FUZE_ADMIN_PORT: String(adminPort),
    FUZE_METRICS_PORT: '0',
    FUZE_STREAM_PREFIX: prefix,
    FUZE_LOG_LEVEL: 'warn',
    ...env,
  });
  const fuze: RunningFuze = await startFuze({
    config,
    logger: createLogger(config.log.level),
    modules: [gatewayModule, adminModule],
  });
  const nc = await connect({ servers: nats.url });
  return {
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    eventsStream: streamNames(prefix).events,
    nc,
    nats,
    async close() {
      await nc.close();
      await fuze.stop();
      await nats[Symbol.asyncDispose]();
      await removeTempDir(dataDir);
      await removeTempDir(schemasDir);
    },
  };
}
