import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminModule } from '@fuze/admin';
import { bucketNames, JetStreamPublisher } from '@fuze/bus';
import { defaultRouting, deliveryHeaders, encodeEventMessage, partitionFor } from '@fuze/core';
import {
  connectionOwner,
  createTestDatabase,
  type FuzeProcess,
  type InProcessFuze,
  makeTempDir,
  type NatsClusterHandle,
  type NatsServerHandle,
  removeTempDir,
  spawnFuze,
  startInProcessFuze,
  startNatsCluster,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * Per-key order on a 3-node JetStream cluster (R3 streams and buckets) and on one nats-server,
 * while a node, a process or a lease owner fails, with 10% of the target's answers failing. Suite size keeps each drill
 * under a minute; `npm run drills` runs them at full size (20,000 events over 200 keys).
 */
const full = process.env['FUZE_DRILL_SIZE'] === 'full';
const events = full ? 20_000 : 1_500;
const keys = full ? 200 : 50;
const perSecond = full ? 500 : 150;

let cluster: NatsClusterHandle;
let single: NatsServerHandle;
let singleNc: NatsConnection;
let db: TestDatabase;
let control: InProcessFuze;
let nc: NatsConnection;
let receiver: Receiver;
let dataDir: string;
const processes: FuzeProcess[] = [];
let drills = 0;

const rule = (url: string) => `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: drill }
spec:
  pattern: { type: [com.drill.tick] }
  targets:
    - name: flaky
      http: { url: "${url}", mode: binary }
      ordering: { partitionKey: "$.data.key", partitions: 16 }
      retry: { maxAttempts: 100, initialDelay: 10ms, maxDelay: 200ms, maxAge: 1h }
`;

/** The target: 10% of requests fail (500/503); each success is recorded with its time. */
class Receiver {
  readonly arrivals: Array<{ id: string; at: number; from: Promise<number | undefined> }> = [];
  failed = 0;
  /** The fuze processes that may send requests (which one sent each: a stale delivery's story). */
  senders: number[] = [];
  private readonly server: Server;
  private readonly owners = new Map<number, Promise<number | undefined>>();

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (Math.random() < 0.1) {
          this.failed += 1;
          res.writeHead(Math.random() < 0.5 ? 503 : 500).end('random failure');
          return;
        }
        this.arrivals.push({
          id: String(req.headers['ce-id']),
          at: Date.now(),
          from: this.sender(req.socket),
        });
        res.writeHead(204).end();
      });
    });
  }

  /** The pid of the process at the other end of a connection, looked up once per connection. */
  private sender(socket: Socket): Promise<number | undefined> {
    const port = socket.remotePort ?? 0;
    let owner = this.owners.get(port);
    if (!owner) {
      owner = connectionOwner(port, socket.localPort ?? 0, this.senders);
      this.owners.set(port, owner);
      socket.once('close', () => this.owners.delete(port));
    }
    return owner;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Where a drill runs: the 3-node cluster (R3), or one nats-server (R1). */
interface Topology {
  name: string;
  url(): string;
  replicas: string;
  nc(): NatsConnection;
  /** Resolves once every node is up and a peer again (after the previous drill's fault). */
  ready(): Promise<void>;
}

const clusterTopology: Topology = {
  name: '3-node cluster',
  url: () => cluster.url,
  replicas: '3',
  nc: () => nc,
  ready: () => cluster.ready(),
};
const singleTopology: Topology = {
  name: 'single node',
  url: () => single.url,
  replicas: '1',
  nc: () => singleNc,
  ready: async () => {},
};

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  single = await startNatsServer();
  singleNc = await connect({ servers: single.url, noAsyncTraces: true, maxReconnectAttempts: -1 });
  db = await createTestDatabase();
  dataDir = await makeTempDir('fuze-cd-');
  receiver = new Receiver();
  const url = await receiver.listen();
  control = await startInProcessFuze({
    modules: [adminModule],
    natsUrl: cluster.url,
    env: { FUZE_DATABASE_URL: db.url, FUZE_STREAM_PREFIX: 'CD0', FUZE_STREAM_REPLICAS: '3' },
  });
  const res = await fetch(`${control.adminUrl}/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ files: [{ path: 'drill.yaml', content: rule(url) }] }),
  });
  expect(res.status).toBe(200);
  nc = await connect({ servers: cluster.url.split(','), noAsyncTraces: true, maxReconnectAttempts: -1 });
}, 180_000);

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await nc?.close();
  await singleNc?.close();
  await single?.[Symbol.asyncDispose]();
  await control?.stop();
  await receiver?.close();
  await db?.drop();
  await cluster?.[Symbol.asyncDispose]();
  await removeTempDir(dataDir);
});

function startFuze(topology: Topology, prefix: string): FuzeProcess {
  const p = spawnFuze(['serve', '--services', 'router,dispatcher'], {
    FUZE_NATS_URL: topology.url(),
    FUZE_DATABASE_URL: db.url,
    FUZE_STREAM_PREFIX: prefix,
    FUZE_STREAM_REPLICAS: topology.replicas,
    FUZE_DATA_DIR: dataDir,
    FUZE_METRICS_PORT: '0',
    FUZE_LOG_LEVEL: process.env['FUZE_DRILL_LOG_LEVEL'] ?? 'info',
  });
  processes.push(p);
  receiver.senders = processes.flatMap((q) => (q.child.pid === undefined ? [] : [q.child.pid]));
  return p;
}

/** Resolves once the routing shards and the target's partitions are each spread over all three processes. */
async function leasesSpread(nc: NatsConnection, prefix: string): Promise<void> {
  const owners = await new Kvm(nc).open(bucketNames(prefix).leaseOwners);
  await waitFor(
    async () => {
      for (const group of ['router', 'deliver.flaky']) {
        const perMember = new Map<string, number>();
        for (let partition = 0; partition < 16; partition++) {
          const entry = await owners.get(`owner.${group}.${partition}`);
          if (entry?.operation !== 'PUT') return false;
          perMember.set(entry.string(), (perMember.get(entry.string()) ?? 0) + 1);
        }
        if (perMember.size < 3) return false;
      }
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 250, message: 'leases spread over the three processes' },
  );
}

interface Fault {
  /** What the drill breaks, a third of the way into the load. */
  name: string;
  inject(ctx: { topology: Topology; prefix: string; fuze: FuzeProcess[] }): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function killNodeLeading(stream: string, prefix: string): Promise<void> {
  const node = cluster.node(await cluster.leaderOf(stream));
  if (process.env['FUZE_DRILL_LOGS']) {
    const streams = [
      `${prefix}_EVENTS`,
      `${prefix}_DELIVERY`,
      `KV_${prefix}_LEASES`,
      `KV_${prefix}_CHECKPOINTS`,
    ];
    const led = [];
    for (const s of streams) if ((await cluster.leaderOf(s)) === node.name) led.push(s);
    console.error(`killing ${node.name}, the leader of ${led.join(', ')}`);
  }
  await node.kill();
  await sleep(5_000);
  await node.restart();
}

const processKill: Fault = {
  name: 'kill -9 a router+dispatcher process, restart it 3 s later',
  async inject({ topology, prefix, fuze }) {
    const victim = fuze[0]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    await sleep(3_000);
    const again = startFuze(topology, prefix);
    fuze[0] = again;
    await again.waitForLog('fuze is running', 90_000);
  },
};

const processPause: Fault = {
  name: 'SIGSTOP a lease owner for 12 s (past its 5 s lease), then SIGCONT',
  async inject({ fuze }) {
    const victim = fuze[0]!;
    victim.child.kill('SIGSTOP');
    await sleep(12_000);
    victim.child.kill('SIGCONT');
  },
};

const drillsOf: Array<[Topology, Fault]> = [
  [
    clusterTopology,
    {
      name: "kill -9 the events stream's leader node, restart it 5 s later",
      inject: ({ prefix }) => killNodeLeading(`${prefix}_EVENTS`, prefix),
    },
  ],
  [
    clusterTopology,
    {
      name: "kill -9 the lease bucket's leader node, restart it 5 s later",
      inject: ({ prefix }) => killNodeLeading(`KV_${prefix}_LEASES`, prefix),
    },
  ],
  [clusterTopology, processKill],
  [clusterTopology, processPause],
  [
    singleTopology,
    {
      name: 'kill -9 the nats-server, restart it 3 s later',
      async inject() {
        await single.kill();
        await sleep(3_000);
        await single.restart();
      },
    },
  ],
  [singleTopology, processKill],
  [singleTopology, processPause],
];

describe('per-key order under faults', () => {
  for (const [topology, fault] of drillsOf)
    test(`${topology.name}: ${fault.name}: ${events} events over ${keys} keys, 10% failing`, async () => {
      const prefix = `CD${++drills}`;
      await topology.ready();
      const fuze = [startFuze(topology, prefix), startFuze(topology, prefix), startFuze(topology, prefix)];
      await Promise.all(fuze.map((p) => p.waitForLog('fuze is running', 90_000)));
      // The fault hits a settled group: a partition still moving between the new processes when
      // it hits would add its hand-over to the time delivery takes to resume.
      await leasesSpread(topology.nc(), prefix);
      const firstArrival = receiver.arrivals.length;
      // Every delivery the routers publish, seen on the wire: tells a loss in routing from one in delivery.
      // Keyed by the event's events-stream sequence: a whole event's delivery carries no ce-id header.
      const published = new Map<number, string[]>();
      const firstPublishedAt = new Map<number, number>();
      const wire = topology.nc().subscribe(`${prefix.toLowerCase()}.deliver.>`, {
        callback: (_err, msg) => {
          const seq = Number(msg.headers?.get(deliveryHeaders.eventSeq));
          published.set(seq, [...(published.get(seq) ?? []), msg.subject]);
          if (!firstPublishedAt.has(seq)) firstPublishedAt.set(seq, Date.now());
        },
      });

      // Load: events over `keys` keys at a steady pace; the bus's order is the stream sequence.
      const publisher = new JetStreamPublisher(topology.nc(), { giveUpAfterMs: 120_000 });
      const accepted = new Map<string, { key: string; seq: number; at: number }>();
      let rejected = 0;
      const publishes: Promise<void>[] = [];
      let faultStartedAt = 0;
      let faultDone: Promise<void> | undefined;
      const batch = Math.max(1, Math.round(perSecond / 10));
      for (let i = 0; i < events; i++) {
        const key = `k${i % keys}`;
        const id = `${prefix}-${i}`;
        const request = encodeEventMessage(
          prefix,
          'default',
          {
            specversion: '1.0',
            id,
            source: '/drill',
            type: 'com.drill.tick',
            partitionkey: key,
            data: { key, i },
          },
          defaultRouting,
        );
        publishes.push(
          publisher.publish(request).then(
            (ack) => void accepted.set(id, { key, seq: ack.seq, at: Date.now() }),
            () => {
              rejected += 1;
            },
          ),
        );
        if (i === Math.floor(events / 3)) {
          faultStartedAt = Date.now();
          faultDone = fault.inject({ topology, prefix, fuze });
        }
        if (i % batch === batch - 1) await sleep(100);
      }
      await Promise.all(publishes);
      await faultDone;
      await publisher.close();

      const arrivals = () => receiver.arrivals.slice(firstArrival).filter((a) => accepted.has(a.id));
      const delivered = () => new Set(arrivals().map((a) => a.id));
      await waitFor(() => delivered().size >= accepted.size, {
        timeoutMs: 180_000,
        intervalMs: 500,
        message: `every accepted event delivered (${accepted.size})`,
      }).catch(async (err: unknown) => {
        console.error(`delivered ${delivered().size} of ${accepted.size}`);
        const missing = [...accepted].filter(([id]) => !delivered().has(id)).slice(0, 10);
        console.error(`not delivered (id, key, events stream seq): ${JSON.stringify(missing)}`);
        console.error(
          `their deliveries published by a router (subjects): ${JSON.stringify(missing.map(([id, a]) => [id, published.get(a.seq) ?? []]))}`,
        );
        const jsm = await jetstreamManager(topology.nc());
        const left = (await jsm.streams.info(`${prefix}_DELIVERY`)).state.messages;
        console.error(`deliveries still in ${prefix}_DELIVERY: ${left} (0: the router never stored them)`);
        const dead = (await jsm.streams.info(`${prefix}_DLQ`)).state.messages;
        console.error(`dead letters in ${prefix}_DLQ: ${dead}`);
        for (const c of await jsm.consumers.list(`${prefix}_EVENTS`).next())
          console.error(
            `router consumer ${c.name}: ack floor ${c.ack_floor.stream_seq}, delivered ${c.delivered.stream_seq}, pending ${c.num_pending}, ack pending ${c.num_ack_pending}`,
          );
        for (const p of fuze) console.error(`--- fuze ${p.child.pid}\n${p.output().slice(-4_000)}`);
        const logs = await mkdtemp(join(tmpdir(), 'fuze-drill-logs-')); // kept: for whoever reads the failure
        for (const [i, p] of fuze.entries()) await writeFile(`${logs}/fuze-${i}.log`, p.output());
        console.error(`process logs kept in ${logs}`);
        throw err;
      });
      await sleep(3_000); // let late redeliveries land before counting

      const report = measure(arrivals(), accepted, faultStartedAt);
      console.info(
        `${topology.name} drill (${fault.name}): accepted ${accepted.size}, publish failures ${rejected}, ` +
          `delivered ${report.delivered}, lost ${report.lost}, duplicates ${report.duplicates}, ` +
          `first deliveries out of order ${report.outOfOrder}, stale (older after newer) ${report.stale}, ` +
          `rewound (delivered >5 s before the fault, then again) ${report.rewound}, ` +
          `delivery resumed for every key ${report.resumedMs} ms after the fault (the longest pause in accepts, ${report.acceptPauseMs} ms, ended ${report.storedAgainMs} ms after it), ` +
          `longest a key waited for its next delivery after the fault ${report.longestPauseMs} ms, ${receiver.failed} requests failed on purpose`,
      );
      if (report.stale + report.outOfOrder + report.lost > 0 || process.env['FUZE_DRILL_LOGS']) {
        console.error(
          `longest wait: ${JSON.stringify(report.longestPause)} (partition ${partitionFor(report.longestPause.key, 16)}), fault at ${new Date(faultStartedAt).toISOString()}`,
        );
        // Per delivery partition: when its first delivery after the fault arrived (ms after it).
        const resumed = new Map<number, number>();
        for (const a of arrivals()) {
          const partition = partitionFor(accepted.get(a.id)!.key, 16);
          if (a.at >= faultStartedAt && !resumed.has(partition))
            resumed.set(partition, a.at - faultStartedAt);
        }
        const byPartition = [...resumed].sort(([a], [b]) => a - b).map(([p, ms]) => `${p}@${ms}`);
        console.error(`partitions resumed (partition@ms after the fault): ${byPartition.join(' ')}`);
        for (const key of [...report.staleKeys.slice(0, 5), report.longestPause.key]) {
          const list = await Promise.all(
            arrivals()
              .filter((a) => accepted.get(a.id)!.key === key)
              .map(
                async (a) => `${accepted.get(a.id)!.seq}@${a.at - faultStartedAt}/${(await a.from) ?? '?'}`,
              ),
          );
          console.error(`${key} (stream seq @ ms after the fault / pid of the sender): ${list.join(' ')}`);
          // When the router published each first: tells a pause in routing from one in delivery.
          const routed = [...accepted]
            .filter(([, a]) => a.key === key)
            .map(([, a]) => `${a.seq}@${(firstPublishedAt.get(a.seq) ?? Number.NaN) - faultStartedAt}`);
          console.error(`${key} routed (stream seq @ ms after the fault): ${routed.join(' ')}`);
          const stored = [...accepted]
            .filter(([, a]) => a.key === key)
            .map(([, a]) => `${a.seq}@${a.at - faultStartedAt}`);
          console.error(`${key} accepted (stream seq @ ms after the fault): ${stored.join(' ')}`);
        }
        const logs = await mkdtemp(join(tmpdir(), 'fuze-drill-logs-')); // kept: for whoever reads the failure
        for (const [i, p] of fuze.entries()) await writeFile(`${logs}/fuze-${i}.log`, p.output());
        console.error(`process logs kept in ${logs}`);
      }
      expect(report.lost).toBe(0);
      expect(report.outOfOrder).toBe(0);
      expect(report.stale).toBe(0);
      expect(report.rewound).toBe(0);

      wire.unsubscribe();
      for (const p of fuze) p.child.kill('SIGTERM');
      await Promise.all(fuze.map((p) => p.exited));
    }, 360_000);
});

function measure(
  arrivals: Array<{ id: string; at: number }>,
  accepted: Map<string, { key: string; seq: number; at: number }>,
  faultStartedAt: number,
) {
  const firstAt = new Map<string, number>();
  const highestSeq = new Map<string, number>();
  const highestFirstSeq = new Map<string, number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let stale = 0;
  let rewound = 0;
  let longestPauseMs = 0;
  const staleKeys = new Set<string>();
  let longestPause = { key: '', endedAt: 0 };
  const lastAt = new Map<string, number>();
  for (const { id, at } of arrivals) {
    const { key, seq } = accepted.get(id)!;
    // The longest a key went without a delivery after the fault (each key gets one every ~0.3 s).
    if (at >= faultStartedAt && at - (lastAt.get(key) ?? faultStartedAt) > longestPauseMs) {
      longestPauseMs = at - (lastAt.get(key) ?? faultStartedAt);
      longestPause = { key, endedAt: at - faultStartedAt };
    }
    lastAt.set(key, at);
    if ((highestSeq.get(key) ?? 0) > seq) {
      stale += 1;
      staleKeys.add(key);
    }
    highestSeq.set(key, Math.max(highestSeq.get(key) ?? 0, seq));
    const first = firstAt.get(id);
    if (first !== undefined) {
      duplicates += 1;
      // Acked long before the fault, yet back: a consumer rewound past its ack floor.
      if (first < faultStartedAt - 5_000) rewound += 1;
      continue;
    }
    firstAt.set(id, at);
    if ((highestFirstSeq.get(key) ?? 0) > seq) outOfOrder += 1;
    highestFirstSeq.set(key, Math.max(highestFirstSeq.get(key) ?? 0, seq));
  }
  const lost = [...accepted.keys()].filter((id) => !firstAt.has(id)).length;
  // Delivery resumed: every key has had a delivery since the fault (each key gets events every
  // ~0.3 s throughout). The longest pause above also counts the wait before the fault.
  const firstAfterFault = new Map<string, number>();
  for (const { id, at } of arrivals) {
    const { key } = accepted.get(id)!;
    if (at >= faultStartedAt && !firstAfterFault.has(key)) firstAfterFault.set(key, at - faultStartedAt);
  }
  const resumedMs = Math.max(0, ...firstAfterFault.values());
  // When the events stream stored events again after a node's loss: the end of the longest gap
  // between accepts (after a process's loss there is no such gap: a pause of a few hundred ms).
  const acceptedAfter = [...accepted.values()]
    .map((a) => a.at - faultStartedAt)
    .filter((ms) => ms >= 0)
    .sort((a, b) => a - b);
  let storedAgainMs = 0;
  let gap = 0;
  for (let i = 0, previous = 0; i < acceptedAfter.length; previous = acceptedAfter[i]!, i++)
    if (acceptedAfter[i]! - previous > gap) {
      gap = acceptedAfter[i]! - previous;
      storedAgainMs = acceptedAfter[i]!;
    }
  return {
    delivered: firstAt.size,
    lost,
    duplicates,
    outOfOrder,
    stale,
    staleKeys: [...staleKeys],
    rewound,
    longestPauseMs,
    longestPause,
    resumedMs,
    storedAgainMs,
    acceptPauseMs: gap,
  };
}
