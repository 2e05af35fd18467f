import { createLogger } from '@fuze/core';
import { freezeEventLoop, type NatsServerHandle, startNatsServer, waitFor } from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type LeaseBuckets, type LeaseFence, openLeaseBuckets, PartitionLeases } from '../src/index.js';

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
async function member(
  group: string,
  partitions: number,
  consuming: Map<number, string>,
  fences = new Map<number, LeaseFence>(),
  faults: (buckets: LeaseBuckets) => LeaseBuckets = (buckets) => buckets,
) {
  const nc = await connect({ servers: server.url });
  connections.push(nc);
  const buckets = faults(await openLeaseBuckets(nc, 'LT', ttlMs));
  const released: number[] = [];
  const leases: PartitionLeases = new PartitionLeases(buckets, {
    group,
    partitions,
    ttlMs,
    logger,
    owner: {
      acquired(p, fence) {
        fences.set(p, fence);
        const other = consuming.get(p);
        if (other !== undefined)
          throw new Error(`partition ${p} taken by ${leases.memberId} while ${other} consumes it`);
        consuming.set(p, leases.memberId);
      },
      async released(p) {
        released.push(p);
        if (consuming.get(p) === leases.memberId) consuming.delete(p);
      },
    },
  });
  await leases.start();
  return { leases, nc, buckets, fences, released };
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

  test('an owner key whose delete failed on a hand-over is deleted again: the partition is not left unowned', async () => {
    const consuming = new Map<number, string>();
    let failingDeletes = 2;
    // The first two deletes of owner keys time out, as while the lease bucket has no leader.
    const deletesTimeOut = (buckets: LeaseBuckets): LeaseBuckets => ({
      ...buckets,
      owners: new Proxy(buckets.owners, {
        get(target, property) {
          if (property === 'delete')
            return (...args: Parameters<typeof target.delete>) =>
              failingDeletes-- > 0 ? Promise.reject(new Error('TIMEOUT')) : target.delete(...args);
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    });
    const first = await member('release-retry', 4, consuming, new Map(), deletesTimeOut);
    await waitFor(() => first.leases.ownedPartitions().length === 4, { message: 'first member not at 4' });
    const second = await member('release-retry', 4, consuming);
    await waitFor(() => second.leases.ownedPartitions().length === 2 && everyPartitionOwned(consuming, 4), {
      timeoutMs: 20_000,
      message: 'the handed-over partitions never reached the second member',
    });
    expect(failingDeletes).toBeLessThanOrEqual(0);
    expect(first.leases.ownedPartitions()).toHaveLength(2);
    await second.leases.stop();
    await first.leases.stop();
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

  test('a member frozen past 3/4 of its TTL is fenced the moment it resumes, before any timer of its own runs', async () => {
    const a = await member('frozen', 1, new Map());
    const fence = a.fences.get(0)!;
    expect(fence.mayStart()).toBe(true);
    expect(fence.maySettle()).toBe(true);
    freezeEventLoop(ttlMs * 0.8);
    // Synchronously after the pause: no attempt, no ack, even though no lease round ran yet.
    expect(fence.mayStart()).toBe(false);
    expect(fence.maySettle()).toBe(false);
    await a.leases.stop();
  });

  test('a member whose heartbeat lapsed loses every lease at once and rejoins under a new id; each owner holds a greater token', async () => {
    const a = await member('stolen', 1, new Map());
    const first = a.fences.get(0)!;
    const lapsedId = a.leases.memberId;
    // The intruder: a live member (it heartbeats), which found a's heartbeat expired (a paused,
    // or cut off, for a TTL), marked a gone, and took its partition.
    const beat = () => a.buckets.heartbeats.put('member.stolen.intruder', 'live');
    await beat();
    const intruder = setInterval(() => void beat(), ttlMs / 4);
    await a.buckets.heartbeats.put(`member.stolen.${lapsedId}`, 'gone');
    const owner = await a.buckets.owners.get('owner.stolen.0');
    const intruderRevision = await a.buckets.owners.update('owner.stolen.0', 'intruder', owner!.revision);
    await waitFor(() => a.released.includes(0), { timeoutMs: 10_000, message: 'loss not noticed' });
    expect(first.mayStart()).toBe(false);
    expect(first.maySettle()).toBe(false);
    expect(intruderRevision).toBeGreaterThan(first.token);
    await waitFor(() => a.leases.memberId !== lapsedId, { timeoutMs: 10_000, message: 'did not rejoin' });
    // The lapsed id stays dead: a never writes it back to life.
    expect((await a.buckets.heartbeats.get(`member.stolen.${lapsedId}`))?.string()).toBe('gone');
    // The intruder leaves; a takes the partition again, with a newer token.
    clearInterval(intruder);
    await a.buckets.owners.delete('owner.stolen.0');
    await a.buckets.heartbeats.delete('member.stolen.intruder');
    await waitFor(() => a.fences.get(0) !== first, { timeoutMs: 10_000, message: 'not taken back' });
    const second = a.fences.get(0)!;
    expect(second.token).toBeGreaterThan(intruderRevision);
    expect(second.mayStart()).toBe(true);
    expect(first.maySettle()).toBe(false);
    await a.leases.stop();
  });

  test('after every member lapsed at once (the lease bucket gone for longer than a TTL), each takes back what it held', async () => {
    const consuming = new Map<number, string>();
    // Each member's fences, recording every partition it acquires.
    const acquisitions = [[], [], []] as number[][];
    const recording = (log: number[]) =>
      new (class extends Map<number, LeaseFence> {
        override set(partition: number, fence: LeaseFence) {
          log.push(partition);
          return super.set(partition, fence);
        }
      })();
    const members = [
      await member('outage', 12, consuming, recording(acquisitions[0]!)),
      await member('outage', 12, consuming, recording(acquisitions[1]!)),
      await member('outage', 12, consuming, recording(acquisitions[2]!)),
    ];
    await waitFor(() => members.every((m) => m.leases.ownedPartitions().length === 4), {
      timeoutMs: 20_000,
      message: 'not balanced',
    });
    const before = members.map((m) => m.leases.ownedPartitions());
    const lapsedIds = members.map((m) => m.leases.memberId);
    for (const log of acquisitions) log.length = 0;
    // Every heartbeat expires while the server is down: every member lapses and rejoins.
    await server.kill();
    await new Promise((resolve) => setTimeout(resolve, ttlMs * 2));
    await server.restart();
    await waitFor(
      () =>
        members.every(
          (m, i) => m.leases.memberId !== lapsedIds[i] && m.leases.ownedPartitions().length === 4,
        ),
      { timeoutMs: 30_000, message: 'the group did not form again' },
    );
    // The first to rejoin found the others expired, and left their partitions to them: no
    // partition went through a member that did not hold it before (a hand-over each).
    for (const [i, log] of acquisitions.entries())
      expect([...new Set(log)].sort((a, b) => a - b)).toEqual(before[i]);
    for (const m of members) await m.leases.stop();
  });

  test('steady state: a round writes one heartbeat per member, whatever it owns; owner keys stay still', async () => {
    const members = [await member('steady', 64, new Map()), await member('steady', 64, new Map())];
    await waitFor(() => members.every((m) => m.leases.ownedPartitions().length === 32), {
      timeoutMs: 20_000,
      message: 'not balanced',
    });
    const { owners, heartbeats } = members[0]!.buckets;
    const lastSequence = async (bucket: typeof owners) => (await bucket.status()).streamInfo.state.last_seq;
    const ownersBefore = await lastSequence(owners);
    const heartbeatsBefore = await lastSequence(heartbeats);
    const roundMs = ttlMs / 4;
    await new Promise((resolve) => setTimeout(resolve, roundMs * 8));
    expect(await lastSequence(owners)).toBe(ownersBefore);
    // 2 members x ~8 rounds; generous for a slow round, far below one write per partition (64/round).
    expect((await lastSequence(heartbeats)) - heartbeatsBefore).toBeLessThanOrEqual(2 * 10);
    for (const m of members) await m.leases.stop();
  });

  test('a member of the earlier lease protocol in the group: nothing is taken until it stops', async () => {
    const consuming = new Map<number, string>();
    const legacyNc = await connect({ servers: server.url });
    connections.push(legacyNc);
    const { heartbeats } = await openLeaseBuckets(legacyNc, 'LT', ttlMs);
    // The earlier protocol's heartbeat: a bare timestamp, renewed each round.
    const beat = () => heartbeats.put('member.legacy.old-member', String(Date.now()));
    await beat();
    const legacy = setInterval(() => void beat(), ttlMs / 4);
    const a = await member('legacy', 4, consuming);
    await new Promise((resolve) => setTimeout(resolve, ttlMs));
    expect(a.leases.ownedPartitions()).toEqual([]);
    clearInterval(legacy);
    await waitFor(() => a.leases.ownedPartitions().length === 4, {
      timeoutMs: 10_000,
      message: 'partitions not taken once the older member stopped',
    });
    await a.leases.stop();
  });

  test('a graceful hand-over lets the old owner settle while it drains, and no longer after', async () => {
    const fencesA = new Map<number, LeaseFence>();
    const a = await member('handover', 2, new Map(), fencesA);
    await waitFor(() => a.leases.ownedPartitions().length === 2, {
      timeoutMs: 10_000,
      message: 'a owns both',
    });
    const b = await member('handover', 2, new Map());
    await waitFor(() => a.released.length === 1 && b.leases.ownedPartitions().length === 1, {
      timeoutMs: 10_000,
      message: 'not handed over',
    });
    const given = a.released[0]!;
    expect(fencesA.get(given)!.maySettle()).toBe(false);
    expect(b.fences.get(given)!.token).toBeGreaterThan(fencesA.get(given)!.token);
    await a.leases.stop();
    await b.leases.stop();
  });
});
