import { createLogger } from '@fuze/core';
import { type NatsServerHandle, startNatsServer, waitFor } from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openLeaseBucket, PartitionLeases } from '../src/index.js';

let server: NatsServerHandle;
const connections: NatsConnection[] = [];
const logger = createLogger('silent');
const ttlMs = 1_500;

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  for (const nc of connections) if (!nc.isClosed()) await nc.close();
  await server?.[Symbol.asyncDispose]();
});

/** A member whose owner records which partitions it is consuming right now. */
async function member(group: string, partitions: number, consuming: Map<number, string>) {
  const nc = await connect({ servers: server.url });
  connections.push(nc);
  const kv = await openLeaseBucket(nc, 'LT', ttlMs);
  const leases: PartitionLeases = new PartitionLeases(kv, {
    group,
    partitions,
    ttlMs,
    logger,
    owner: {
      acquired(p) {
        const other = consuming.get(p);
        if (other !== undefined)
          throw new Error(`partition ${p} taken by ${leases.memberId} while ${other} consumes it`);
        consuming.set(p, leases.memberId);
      },
      async released(p) {
        if (consuming.get(p) === leases.memberId) consuming.delete(p);
      },
    },
  });
  await leases.start();
  return { leases, nc };
}

function everyPartitionOwned(consuming: Map<number, string>, partitions: number) {
  return consuming.size === partitions;
}

describe('PartitionLeases', () => {
  test('three members share 16 partitions fairly, one owner each', async () => {
    const consuming = new Map<number, string>();
    const members = [
      await member('fair', 16, consuming),
      await member('fair', 16, consuming),
      await member('fair', 16, consuming),
    ];
    await waitFor(
      () =>
        members.every((m) => m.leases.ownedPartitions().length >= 5) && everyPartitionOwned(consuming, 16),
      {
        timeoutMs: 20_000,
        message: 'partitions not spread',
      },
    );
    const owned = members.flatMap((m) => m.leases.ownedPartitions());
    expect(owned.sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, p) => p));
    for (const m of members) expect(m.leases.ownedPartitions().length).toBeLessThanOrEqual(6);
    for (const m of members) await m.leases.stop();
  });

  test('a member that leaves hands its partitions to the others', async () => {
    const consuming = new Map<number, string>();
    const a = await member('leave', 8, consuming);
    const b = await member('leave', 8, consuming);
    await waitFor(() => a.leases.ownedPartitions().length === 4 && b.leases.ownedPartitions().length === 4, {
      timeoutMs: 20_000,
      message: 'not balanced',
    });
    await b.leases.stop();
    await waitFor(() => a.leases.ownedPartitions().length === 8, {
      timeoutMs: 20_000,
      message: 'not taken over',
    });
    expect([...consuming.values()].every((owner) => owner === a.leases.memberId)).toBe(true);
    await a.leases.stop();
  });

  test('a member that dies (no goodbye) loses its partitions once its leases expire', async () => {
    const consuming = new Map<number, string>();
    const a = await member('crash', 6, consuming);
    const b = await member('crash', 6, consuming);
    await waitFor(() => a.leases.ownedPartitions().length === 3 && b.leases.ownedPartitions().length === 3, {
      timeoutMs: 20_000,
      message: 'not balanced',
    });
    // the "crash": b's connection vanishes and its timers can no longer renew anything
    const orphaned = b.leases.ownedPartitions();
    await b.nc.close();
    for (const p of orphaned) consuming.delete(p); // b's process is gone: it consumes nothing
    await waitFor(() => a.leases.ownedPartitions().length === 6, {
      timeoutMs: 20_000,
      message: 'orphans not adopted',
    });
    await a.leases.stop();
    await b.leases.stop().catch(() => {});
  });
});
