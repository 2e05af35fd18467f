// `npm run bench -- leases [--members=50] [--partitions=10000] [--seconds=15]`
// The lease protocol at scale: `members` PartitionLeases in this process, each on its own
// connection as separate processes would be, sharing one group of `partitions` partitions.
// Prints: how long until every partition has exactly one owner, the lease bucket's writes per
// second in steady state against the bucket's raw put rate measured in the same run (the share of
// the server's KV capacity leases use), this process's CPU per member and round, partitions that
// self-fenced (a round too slow), and how long a killed member's partitions wait for new owners.
import { bucketNames, type LeaseFence, leaseTtlMs, openLeaseBuckets, PartitionLeases } from '@fuze/bus';
import { createLogger, type Logger } from '@fuze/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startBenchNatsServer } from './nats-server.js';
import { numberOption } from './options.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(args: string[]): Promise<void> {
  const memberCount = numberOption(args, 'members', 50);
  const partitions = numberOption(args, 'partitions', 10_000);
  const seconds = numberOption(args, 'seconds', 15);
  const nats = await startBenchNatsServer();
  const connections: NatsConnection[] = [];
  // partition → its owner and that owner's fence: owned twice = a new owner while the old fence is open
  const owners = new Map<number, { leases: PartitionLeases; fence: LeaseFence }>();
  let doubleOwned = 0;
  let fenced = 0;
  const silent = createLogger('silent');
  const counting: Logger = new Proxy(silent, {
    get(target, prop, receiver) {
      if (prop === 'warn')
        return (obj: { partitions?: number } | undefined, msg?: string) => {
          if (msg?.includes('stalled') || msg?.includes('lapsed')) fenced += obj?.partitions ?? 1;
          else if (msg?.includes('lost a partition')) fenced += 1;
        };
      return Reflect.get(target, prop, receiver);
    },
  });
  try {
    const names = bucketNames('BENCH');
    const probe = await connect({ servers: nats.url });
    connections.push(probe);
    const kv = (await openLeaseBuckets(probe, 'BENCH', leaseTtlMs)).heartbeats;
    const jsm = await jetstreamManager(probe);
    const writes = async () =>
      (await jsm.streams.info(`KV_${names.leases}`)).state.last_seq +
      (await jsm.streams.info(`KV_${names.leaseOwners}`)).state.last_seq;

    // Baseline: the bucket's raw put rate, pipelined, for 2 s.
    const baselineStart = performance.now();
    let puts = 0;
    while (performance.now() - baselineStart < 2_000) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => kv.put(`probe.${i}`, 'x')));
      puts += 500;
    }
    const rawPutsPerSecond = puts / ((performance.now() - baselineStart) / 1_000);

    const members: Array<{ leases: PartitionLeases; nc: NatsConnection }> = [];
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    for (let m = 0; m < memberCount; m++) {
      const nc = await connect({ servers: nats.url, noAsyncTraces: true });
      connections.push(nc);
      const buckets = await openLeaseBuckets(nc, 'BENCH', leaseTtlMs);
      const leases: PartitionLeases = new PartitionLeases(buckets, {
        group: 'bench',
        partitions,
        ttlMs: leaseTtlMs,
        logger: counting,
        owner: {
          acquired(p, fence) {
            const previous = owners.get(p);
            // Two owners that may both act. (A member starved in the middle of taking a batch can
            // finish taking a partition after its own fence closed, and after another member took
            // it from it: that owner can do nothing, and is not counted.)
            if (previous && previous.leases !== leases && previous.fence.maySettle() && fence.maySettle()) {
              doubleOwned += 1;
              // What the two owners hold, for whoever reads a non-zero count.
              if (doubleOwned <= 3)
                console.log(
                  `  partition ${p}: taken by ${leases.memberId} (token ${fence.token}) while ${previous.leases.memberId} (token ${previous.fence.token}) may still settle`,
                );
            }
            owners.set(p, { leases, fence });
          },
          async released(p) {
            if (owners.get(p)?.leases === leases) owners.delete(p);
          },
        },
      });
      members.push({ leases, nc });
    }
    await Promise.all(members.map((m) => m.leases.start()));
    const fairShare = Math.ceil(partitions / memberCount);
    while (owners.size < partitions || members.some((m) => m.leases.ownedPartitions().length > fairShare)) {
      const elapsed = performance.now() - started;
      if (elapsed > 300_000) throw new Error('no convergence in 5 minutes');
      if (Math.floor(elapsed / 10_000) !== Math.floor((elapsed - 100) / 10_000)) {
        const counts = members.map((m) => m.leases.ownedPartitions().length);
        console.log(
          `  ${Math.round(elapsed / 1_000)} s: ${owners.size} partitions owned; per member ${Math.min(...counts)}-${Math.max(...counts)}; fenced ${fenced}`,
        );
      }
      await sleep(100);
    }
    const convergedMs = performance.now() - started;

    // Steady state.
    const writesBefore = await writes();
    const cpuSteady = process.cpuUsage();
    const fencedBefore = fenced;
    const serverCpuBefore = nats.cpuMicros();
    await sleep(seconds * 1_000);
    const steadyCpu = process.cpuUsage(cpuSteady);
    const writesPerSecond = ((await writes()) - writesBefore) / seconds;
    const serverCpuPerSecond = (nats.cpuMicros() - serverCpuBefore) / seconds / 1_000;
    const rounds = seconds / (leaseTtlMs / 4 / 1_000);
    const cpuPerMemberRoundMs = (steadyCpu.user + steadyCpu.system) / 1_000 / memberCount / rounds;
    const steadyFenced = fenced - fencedBefore;

    // A member dies: its connection goes, its partitions must find new owners.
    const victim = members.pop()!;
    const orphans = victim.leases.ownedPartitions();
    await victim.nc.close();
    for (const p of orphans) if (owners.get(p)?.leases === victim.leases) owners.delete(p);
    const killedAt = performance.now();
    while (owners.size < partitions) {
      if (performance.now() - killedAt > 120_000) throw new Error('orphans not adopted in 2 minutes');
      await sleep(50);
    }
    const takeoverMs = performance.now() - killedAt;
    const totalCpu = process.cpuUsage(cpuStart);

    console.log(
      `${memberCount} members, ${partitions} partitions, lease TTL ${leaseTtlMs} ms (a round every ${leaseTtlMs / 4} ms), nats-server store: ${nats.store}`,
    );
    console.log(
      `every partition owned, fair shares (<= ${fairShare} each): ${Math.round(convergedMs)} ms after start`,
    );
    console.log(
      `steady state over ${seconds} s: ${Math.round(writesPerSecond)} bucket writes/s = ${((writesPerSecond / rawPutsPerSecond) * 100).toFixed(1)}% of the bucket's raw put rate (${Math.round(rawPutsPerSecond)}/s, measured in this run); nats-server CPU ${serverCpuPerSecond.toFixed(0)} ms/s`,
    );
    console.log(
      `members' CPU: ${cpuPerMemberRoundMs.toFixed(2)} ms per member per round; partitions self-fenced in steady state: ${steadyFenced}; a new owner while the old one's fence was open: ${doubleOwned}`,
    );
    console.log(
      `one member killed: its ${orphans.length} partitions all had new owners ${Math.round(takeoverMs)} ms later (TTL ${leaseTtlMs} ms); process CPU in total ${((totalCpu.user + totalCpu.system) / 1e6).toFixed(1)} s`,
    );
    await Promise.all(members.map((m) => m.leases.stop()));
  } finally {
    for (const nc of connections) if (!nc.isClosed()) await nc.close().catch(() => {});
    await nats.stop();
  }
}
