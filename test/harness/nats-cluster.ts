import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type NatsServerHandle, startNatsServer } from './nats-server.js';
import { freePorts } from './ports.js';
import { sleep } from './processes.js';

export interface NatsClusterHandle {
  /** Every node's client URL, comma-separated: what FUZE_NATS_URL takes. */
  url: string;
  /** The nodes, named `n1`, `n2`, ... (their `server_name`). */
  nodes: ReadonlyArray<NatsServerHandle & { name: string }>;
  node(name: string): NatsServerHandle & { name: string };
  /** The node leading a stream's Raft group (a KV bucket's stream is `KV_<bucket>`). */
  leaderOf(stream: string): Promise<string>;
  /**
   * Resolves once JetStream answers through the cluster (a meta leader is elected) and a stream
   * with one replica per node can be created: every node is up and a peer.
   */
  ready(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A JetStream cluster of `size` nats-servers on loopback, routed to each other, each with its own
 * store; nodes can be killed (-9) and restarted on the same ports and stores, as an operator's
 * cluster losing a machine would.
 */
export async function startNatsCluster(size = 3): Promise<NatsClusterHandle> {
  const routePorts = await freePorts(size);
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const nodes = await Promise.all(
    routePorts.map(async (routePort, i) => {
      const name = `n${i + 1}`;
      const server = await startNatsServer({
        args: [
          '--server_name',
          name,
          '--cluster_name',
          'fuze-test',
          '--cluster',
          `nats://127.0.0.1:${routePort}`,
          '--routes',
          routes,
        ],
      });
      return Object.assign(server, { name });
    }),
  );
  const url = nodes.map((n) => n.url).join(',');
  const handle: NatsClusterHandle = {
    url,
    nodes,
    node(name) {
      const node = nodes.find((n) => n.name === name);
      if (!node) throw new Error(`no node ${name}`);
      return node;
    },
    async leaderOf(stream) {
      const nc = await connect({ servers: nodes.filter((n) => n.pid !== undefined).map((n) => n.url) });
      try {
        const info = await (await jetstreamManager(nc)).streams.info(stream);
        const leader = info.cluster?.leader;
        if (!leader) throw new Error(`stream ${stream} has no leader now`);
        return leader;
      } finally {
        await nc.close();
      }
    },
    async ready() {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          const nc = await connect({ servers: nodes.map((n) => n.url), timeout: 2_000 });
          try {
            const jsm = await jetstreamManager(nc);
            await jsm.getAccountInfo();
            const probe = `READY_${Date.now()}`;
            await jsm.streams.add({ name: probe, subjects: [`ready.${probe}`], num_replicas: nodes.length });
            await jsm.streams.delete(probe);
            return;
          } finally {
            await nc.close();
          }
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`JetStream cluster not ready after 60 s: ${err}`);
          await sleep(250);
        }
      }
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()));
    },
  };
  await handle.ready();
  return handle;
}
