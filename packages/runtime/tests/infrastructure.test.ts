import { createLogger, type FuzeConfig, FuzeError, loadConfig } from '@fuze/core';
import {
  freePort,
  makeTempDir,
  removeTempDir,
  startNatsServer,
  startPostgresServer,
  waitFor,
} from '@fuze/test/harness';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startInfrastructure } from '../src/index.js';

const logger = createLogger('silent');
let dataDir: string;
beforeAll(async () => {
  dataDir = await makeTempDir('fuze-runtime-');
});
afterAll(async () => {
  await removeTempDir(dataDir);
});

/** A config whose "default" NATS URL points at a port where nothing listens. */
async function laptopConfig(embedded: 'auto' | 'never'): Promise<FuzeConfig> {
  const base = loadConfig({ FUZE_DATA_DIR: dataDir, FUZE_LOG_LEVEL: 'silent' });
  return { ...base, nats: { url: `nats://127.0.0.1:${await freePort()}`, urlIsDefault: true, embedded } };
}

describe('NATS on a laptop', () => {
  test('nothing answers at the default URL and nats-server is installed: Fuze starts one, and stops it', async () => {
    const config = await laptopConfig('auto');
    const infra = await startInfrastructure(config, logger, 'test');
    expect(infra.nats.getServer()).toBe(config.nats.url.replace('nats://', ''));
    expect((await infra.jsm.streams.info('FUZE_EVENTS')).config.name).toBe('FUZE_EVENTS');
    expect(await infra.readiness()).toEqual({ nats: true, postgres: true });
    await infra.stop();
    // the embedded server is gone with Fuze
    const { natsAnswers } = await import('@fuze/bus');
    expect(await natsAnswers(config.nats.url)).toBe(false);
  });

  test('no NATS and none to start: a clear error that says how to get one', async () => {
    const config = await laptopConfig('never');
    const error = await startInfrastructure(config, logger, 'test').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FuzeError);
    expect((error as FuzeError).code).toBe('FUZE_NATS_UNAVAILABLE');
    expect((error as FuzeError).message).toContain('docker compose up -d nats');
    expect((error as FuzeError).message).toContain('apt install nats-server');
  });

  test('an explicit FUZE_NATS_URL that does not answer is an error, never an embedded server', async () => {
    const base = loadConfig({
      FUZE_DATA_DIR: dataDir,
      FUZE_NATS_URL: `nats://127.0.0.1:${await freePort()}`,
    });
    const error = await startInfrastructure(base, logger, 'test').catch((e: unknown) => e);
    expect((error as FuzeError).code).toBe('FUZE_NATS_UNAVAILABLE');
    expect((error as FuzeError).message).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/);
  });
});

describe('readiness', () => {
  test('a hung dependency reads as not ready, and ready again once it answers', async () => {
    await using nats = await startNatsServer();
    await using pg = await startPostgresServer();
    const config = loadConfig({
      FUZE_DATA_DIR: dataDir,
      FUZE_NATS_URL: nats.url,
      FUZE_DATABASE_URL: pg.url,
      FUZE_LOG_LEVEL: 'silent',
    });
    const infra = await startInfrastructure(config, logger, 'test');
    try {
      expect(await infra.readiness()).toEqual({ nats: true, postgres: true });

      // Without a bound on each check, these would wait for NATS's and Postgres's own timeouts.
      // Only the paused dependency is asserted: on a loaded machine the other one's check may also
      // miss its bound once.
      await nats.pause();
      await waitFor(async () => !(await infra.readiness()).nats, {
        message: 'NATS paused reads as not ready',
      });
      nats.resume();
      await waitFor(async () => (await infra.readiness()).nats);

      pg.pause();
      await waitFor(async () => !(await infra.readiness()).postgres, {
        message: 'Postgres paused reads as not ready',
      });
      pg.resume();
      await waitFor(async () => {
        const ready = await infra.readiness();
        return ready.nats && ready.postgres;
      });
    } finally {
      nats.resume();
      pg.resume();
      await infra.stop();
    }
  });
});
