// `npm run bench -- ingest [--seconds=4] [--runs=3] [--warmup=1] [--connections=64]
//   [--batch-connections=16] [--only=a,b,sdk,http] [--profile]`
// Events/s into the events stream by each ingest path, next to raw JetStream baselines measured
// in the same run against the same isolated nats-server.
import { mkdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats, ensureTopology } from '@fuze/bus';
import { createLogger, defaultRouting, encodeEventMessage, loadConfig, streamNames } from '@fuze/core';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  type DirectPath,
  rawHandMatched,
  rawJsPublish,
  sdkPublish,
  sdkPublishBatch,
} from './direct-paths.js';
import { type HttpTargetProcess, startHttpTarget } from './http-target-process.js';
import { type HttpLoad, type HttpLoadResult, runHttpLoad } from './load-generator.js';
import { medianOf, type Rate, type Timing } from './measure.js';
import { startBenchNatsServer } from './nats-server.js';
import { startProfile } from './profiler.js';
import { Report } from './report.js';
import { sampleEvent, sampleEventJson } from './sample-event.js';

const prefix = 'BENCH';

export async function run(args: string[]): Promise<void> {
  const option = (name: string): string | undefined =>
    args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const number = (name: string, fallback: number) => Number(option(name) ?? fallback);
  const timing: Timing = {
    warmupMs: number('warmup', 1) * 1000,
    durationMs: number('seconds', 4) * 1000,
    runs: number('runs', 3),
  };
  const connections = number('connections', 64);
  const batchConnections = number('batch-connections', 16);
  const only = option('only')?.split(',');
  const want = (name: string) => !only || only.includes(name);
  const profileDir = args.includes('--profile') ? join(tmpdir(), 'fuze-bench-profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const nats = await startBenchNatsServer();
  const logger = createLogger('warn', { component: 'bench' });
  const admin = await connectNats({ url: nats.url, name: 'fuze-bench-admin', logger });
  const jsm = await jetstreamManager(admin);
  await ensureTopology(jsm, loadConfig({ FUZE_STREAM_PREFIX: prefix }).streams, logger);
  // Each run starts from an empty stream, so earlier runs' files do not slow later ones.
  const purge = async () => {
    await jsm.streams.purge(streamNames(prefix).events);
  };
  const eventBytes = encodeEventMessage(prefix, 'default', sampleEvent(), defaultRouting).payload.length;
  console.log(
    `${cpus().length} cores shared by nats-server (file storage), the HTTP server (a child process) and ` +
      `this process (publishers and load generator). Median of ${timing.runs} runs of ` +
      `${timing.durationMs / 1000} s after a ${timing.warmupMs / 1000} s warm-up; events of ${eventBytes} bytes of JSON.`,
  );
  if (profileDir) console.log(`CPU profiles: ${profileDir}/<measurement>.cpuprofile`);

  const report = new Report();
  const measureDirect = async (key: string, label: string, open: () => Promise<DirectPath> | DirectPath) => {
    const path = await open();
    try {
      const profile = profileDir ? await startProfile() : undefined;
      let events = 0;
      const cpuBefore = process.cpuUsage();
      const rate = await medianOf(
        timing,
        async (ms) => {
          const result = await path.run(ms);
          events += result.count;
          return result;
        },
        purge,
      );
      const cpu = process.cpuUsage(cpuBefore);
      await profile?.stop(join(profileDir ?? '', `${key}.cpuprofile`));
      report.add(
        key,
        label,
        rate,
        'events/s',
        `; ${micros(cpu.user + cpu.system, events)} µs CPU/event in the publisher`,
      );
    } finally {
      await path.close();
    }
  };
  const measureHttp = async (
    key: string,
    label: string,
    target: HttpTargetProcess,
    load: Omit<HttpLoad, 'durationMs'>,
    unit: 'events/s' | 'req/s',
  ) => {
    const measure = () => medianHttp(timing, purge, load, unit);
    const cpuBefore = await target.cpuMicros();
    const natsBefore = nats.cpuMicros();
    const selfBefore = process.cpuUsage();
    const rate = profileDir
      ? await target.profile(join(profileDir, `${key}.cpuprofile`), measure)
      : await measure();
    const cpu = (await target.cpuMicros()) - cpuBefore;
    const natsCpu = nats.cpuMicros() - natsBefore;
    const selfCpu = process.cpuUsage(selfBefore);
    const perRequest = `${micros(cpu, rate.requests)} µs CPU/request in the server`;
    const perEvent =
      load.eventsPerRequest > 1 ? ` (${micros(cpu, rate.requests * load.eventsPerRequest)}/event)` : '';
    // Where the rest of the two cores went: nats-server and the load generator (this process).
    const others = `, ${micros(natsCpu, rate.requests)} in nats-server, ${micros(selfCpu.user + selfCpu.system, rate.requests)} in the load generator`;
    report.add(key, label, rate, unit, `; ${perRequest}${perEvent}${others}${failures(rate)}`);
  };

  /**
   * HTTP lines whose ratio matters, measured in turn (run 1 of each, run 2 of each, ...) so that
   * load from elsewhere on a shared machine hits them alike rather than whichever ran last.
   */
  const measureHttpInTurn = async (
    lines: Array<{
      key: string;
      label: string;
      target: HttpTargetProcess;
      load: Omit<HttpLoad, 'durationMs'>;
    }>,
  ) => {
    for (const line of lines) await runHttpLoad({ ...line.load, durationMs: timing.warmupMs });
    const totals = lines.map(() => ({
      rates: [] as Rate[],
      requests: 0,
      server: 0,
      nats: 0,
      self: 0,
      failed: {} as Record<number, number>,
    }));
    for (let run = 0; run < timing.runs; run++) {
      for (const [i, line] of lines.entries()) {
        await purge();
        const total = totals[i]!;
        const server = await line.target.cpuMicros();
        const natsCpu = nats.cpuMicros();
        const self = process.cpuUsage();
        const result = await runHttpLoad({ ...line.load, durationMs: timing.durationMs });
        total.server += (await line.target.cpuMicros()) - server;
        total.nats += nats.cpuMicros() - natsCpu;
        const selfSpent = process.cpuUsage(self);
        total.self += selfSpent.user + selfSpent.system;
        total.requests += result.requestsPerSecond * result.seconds;
        total.rates.push({
          count: result.requestsPerSecond * result.seconds,
          seconds: result.seconds,
          perSecond: result.requestsPerSecond,
        });
        for (const [status, n] of Object.entries(result.errors))
          total.failed[Number(status)] = (total.failed[Number(status)] ?? 0) + n;
      }
    }
    for (const [i, line] of lines.entries()) {
      const total = totals[i]!;
      const sorted = [...total.rates].sort((a, b) => a.perSecond - b.perSecond);
      const rate = {
        ...sorted[Math.floor(sorted.length / 2)]!,
        all: total.rates.map((r) => Math.round(r.perSecond)),
      };
      const cpu = `; ${micros(total.server, total.requests)} µs CPU/request in the server, ${micros(total.nats, total.requests)} in nats-server, ${micros(total.self, total.requests)} in the load generator`;
      report.add(line.key, line.label, rate, 'req/s', `${cpu}${failures(total)}`);
    }
  };

  try {
    if (want('a'))
      await measureDirect('a', 'baseline A: js.publish, windows of 1,000 acks', () =>
        rawJsPublish(nats.url, prefix),
      );
    if (want('b')) {
      await measureDirect('b', 'baseline B: hand-matched acks, 4,000 in flight', () =>
        rawHandMatched(nats.url, prefix),
      );
    }
    if (want('sdk')) {
      await measureDirect('sdk', 'SDK direct: publish, 2,000 in flight', () => sdkPublish(nats.url, prefix));
      await measureDirect('sdk-batch', 'SDK direct: publishBatch of 100, 20 in flight', () =>
        sdkPublishBatch(nats.url, prefix),
      );
    }
    if (want('http')) {
      const eventJson = sampleEventJson();
      let sequence = 0; // unique event ids across runs: a repeated id would be a cheap duplicate
      const gateway = await startHttpTarget(['gateway', nats.url, prefix]);
      const bare = await startHttpTarget(['fastify']);
      try {
        const single = {
          key: 'http',
          label: `HTTP gateway: 1 event/request, ${connections} connections`,
          target: gateway,
          load: {
            url: `${gateway.address}/v1/events`,
            connections,
            contentType: 'application/cloudevents+json',
            eventsPerRequest: 1,
            body: () => eventJson(`h-${sequence++}`),
          },
        };
        const bareLine = {
          key: 'fastify',
          label: `bare fastify: POST / -> 202, ${connections} connections`,
          target: bare,
          load: {
            url: `${bare.address}/`,
            connections,
            contentType: 'application/cloudevents+json',
            eventsPerRequest: 1,
            body: () => eventJson(`f-${sequence++}`),
          },
        };
        if (profileDir) {
          // A profile wraps one line's runs, so profiled lines run one after the other.
          await measureHttp(single.key, single.label, gateway, single.load, 'req/s');
          await measureHttp(bareLine.key, bareLine.label, bare, bareLine.load, 'req/s');
        } else {
          await measureHttpInTurn([single, bareLine]);
        }
        await measureHttp(
          'http-batch',
          `HTTP gateway: batches of 100, ${batchConnections} connections`,
          gateway,
          {
            url: `${gateway.address}/v1/events`,
            connections: batchConnections,
            contentType: 'application/cloudevents-batch+json',
            eventsPerRequest: 100,
            body: () => {
              const base = `hb-${sequence++}`;
              return `[${Array.from({ length: 100 }, (_, i) => eventJson(`${base}-${i}`)).join(',')}]`;
            },
          },
          'events/s',
        );
      } finally {
        await gateway.stop();
        await bare.stop();
      }
    }

    console.log('');
    report.ratio('sdk', 'a', 0.8);
    report.ratio('sdk', 'b');
    report.ratio('sdk-batch', 'a', 0.8);
    report.ratio('sdk-batch', 'b');
    report.ratio('http-batch', 'a', 0.25);
    report.ratio('http', 'fastify', 0.5);
  } finally {
    await admin.close();
    await nats.stop();
  }
}

/** Median of HTTP load runs; `perSecond` is requests/s or events/s as `unit` says. */
async function medianHttp(
  timing: Timing,
  between: () => Promise<void>,
  load: Omit<HttpLoad, 'durationMs'>,
  unit: 'events/s' | 'req/s',
): Promise<Rate & { all: number[]; failed: Record<number, number>; requests: number }> {
  const failed: Record<number, number> = {};
  let requests = 0;
  const rate = await medianOf(
    timing,
    async (durationMs) => {
      const result: HttpLoadResult = await runHttpLoad({ ...load, durationMs });
      requests += result.requestsPerSecond * result.seconds;
      for (const [status, n] of Object.entries(result.errors)) {
        failed[Number(status)] = (failed[Number(status)] ?? 0) + n;
      }
      return { ...result, perSecond: unit === 'req/s' ? result.requestsPerSecond : result.perSecond };
    },
    between,
  );
  return { ...rate, failed, requests };
}

function micros(cpuMicros: number, operations: number): string {
  return (cpuMicros / operations).toFixed(1);
}

function failures(rate: { failed: Record<number, number> }): string {
  return Object.keys(rate.failed).length === 0 ? '' : `; NOT 202: ${JSON.stringify(rate.failed)}`;
}
