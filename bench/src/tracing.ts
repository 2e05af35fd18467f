// `npm run bench -- tracing [--seconds=4] [--runs=3] [--warmup=1] [--connections=64] [--profile]`
// `--profile`: each gateway process writes $TMPDIR/fuze-bench-profiles/tracing-<mode>.cpuprofile on exit.
// Gateway ingest throughput with tracing off (no OTEL_* exporter: no provider registered) and with
// tracing on at 100% sampling, in the same run against the same nats-server, runs alternating so
// drift hits every mode alike. Tracing on comes three times:
// - into an in-memory exporter: the cost of the instrumentation (spans made, sampled, batched);
// - as deployed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, the official http/protobuf exporter sending
//   every batch to an OTLP/HTTP sink in this process, which counts the spans it receives;
// - for reference, an exporter that encodes each batch with the official OTLP protobuf serializer
//   (what @opentelemetry/exporter-trace-otlp-proto does before it sends), then drops it.
//
// This file is also the HTTP server's child process (`tracing.js target <mode> <natsUrl> <prefix> <sink>`),
// since the server must register tracing before it builds the gateway.
// Over 300 lines: one benchmark read top to bottom (set-up, load, report), as its printout is.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats, ensureTopology, JetStreamPublisher } from '@fuze/bus';
import { createLogger, defaultRouting, loadConfig, streamNames } from '@fuze/core';
import { openDatabase } from '@fuze/db';
import { buildGatewayApp, EventSchemaRegistry } from '@fuze/gateway';
import { createTokenAuthenticator } from '@fuze/http';
import { startTelemetry, type Telemetry, tracingActive } from '@fuze/telemetry';
import { jetstreamManager } from '@nats-io/jetstream';
import { ExportResultCode } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { type HttpLoadResult, runHttpLoad } from './load-generator.js';
import { startBenchNatsServer } from './nats-server.js';
import { format } from './report.js';
import { sampleEventJson } from './sample-event.js';

const prefix = 'BENCHTRC';

export async function run(args: string[]): Promise<void> {
  const option = (name: string, fallback: number) =>
    Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
  const warmupMs = option('warmup', 1) * 1000;
  const durationMs = option('seconds', 4) * 1000;
  const runs = option('runs', 3);
  const connections = option('connections', 64);
  const profileDir = args.includes('--profile') ? join(tmpdir(), 'fuze-bench-profiles') : undefined;

  const nats = await startBenchNatsServer();
  const logger = createLogger('warn', { component: 'bench' });
  const admin = await connectNats({ url: nats.url, name: 'fuze-bench-admin', logger });
  const jsm = await jetstreamManager(admin);
  await ensureTopology(jsm, loadConfig({ FUZE_STREAM_PREFIX: prefix }).streams, logger);
  const purge = () => jsm.streams.purge(streamNames(prefix).events);
  console.log(
    `${cpus().length} cores shared by nats-server, the gateway (a child process) and the load generator; ` +
      `${connections} connections, 1 event per request; median of ${runs} runs of ${durationMs / 1000} s ` +
      `each, the three modes alternating, after a ${warmupMs / 1000} s warm-up of each.`,
  );
  console.log(
    `tracing off, per hop: ${offCheckNanos().toFixed(1)} ns for the tracingActive() test (all it costs)`,
  );
  const sink = await startOtlpSink();
  const targets = {
    off: await startTarget('off', nats.url, sink.url, profileDir),
    memory: await startTarget('memory', nats.url, sink.url, profileDir),
    otlp: await startTarget('otlp', nats.url, sink.url, profileDir),
    official: await startTarget('official', nats.url, sink.url, profileDir),
  };
  const eventJson = sampleEventJson();
  let sequence = 0;
  const load = (target: Target, ms: number) =>
    runHttpLoad({
      url: `${target.address}/v1/events`,
      connections,
      contentType: 'application/cloudevents+json',
      eventsPerRequest: 1,
      body: () => eventJson(`t-${sequence++}`),
      durationMs: ms,
    });
  const labels = {
    off: 'tracing off (no exporter configured)',
    memory: 'tracing on, 100%, in-memory exporter',
    otlp: 'tracing on, 100%, OTLP http/protobuf (official exporter)',
    official: 'tracing on, 100%, official serializer, encode only',
  } as const;
  type Mode = keyof typeof labels;
  const modes = Object.keys(labels) as Mode[];
  try {
    const warmupRequests = {} as Record<Mode, number>;
    for (const mode of modes) {
      const warm = await load(targets[mode], warmupMs);
      warmupRequests[mode] = warm.requestsPerSecond * warm.seconds;
    }
    const results = Object.fromEntries(
      modes.map((mode) => [mode, { rates: [] as number[], failed: 0, requests: 0, cpu: 0 }]),
    ) as Record<Mode, { rates: number[]; failed: number; requests: number; cpu: number }>;
    for (let i = 0; i < runs; i++) {
      for (const mode of modes) {
        const target = targets[mode];
        await purge();
        const cpuBefore = await target.cpuMicros();
        const result: HttpLoadResult = await load(target, durationMs);
        const entry = results[mode];
        entry.cpu += (await target.cpuMicros()) - cpuBefore;
        entry.rates.push(result.requestsPerSecond);
        entry.requests += result.requestsPerSecond * result.seconds;
        entry.failed += Object.values(result.errors).reduce((a, b) => a + b, 0);
      }
    }
    const median = (rates: number[]) => [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
    const cpuPerRequest = (mode: Mode) => results[mode].cpu / results[mode].requests;
    console.log('');
    for (const mode of modes) {
      const r = results[mode];
      const failed = r.failed > 0 ? `; NOT 202: ${r.failed}` : '';
      console.log(
        `gateway, ${labels[mode]}`.padEnd(52) +
          `${format(median(r.rates)).padStart(8)} req/s (runs: ${r.rates.map(format).join(', ')}); ` +
          `${cpuPerRequest(mode).toFixed(1)} µs CPU/request in the server${failed}`,
      );
    }
    console.log('');
    for (const mode of ['memory', 'otlp', 'official'] as const) {
      const ratio = median(results[mode].rates) / median(results.off.rates);
      const cpuRatio = cpuPerRequest('off') / cpuPerRequest(mode);
      console.log(
        `ratio ${ratio.toFixed(2)}x  ${labels[mode]} / ${labels.off}   goal >= 0.8x: ${ratio >= 0.8 ? 'met' : 'MISSED'}` +
          `   (server CPU per request: ${cpuRatio.toFixed(2)}x)`,
      );
    }
    // Batches still buffered reach the sink when the gateways stop, below.
    const accepted = (mode: Mode) => format(Math.round(results[mode].requests + warmupRequests[mode]));
    console.log(
      `spans exported: ${format(await targets.memory.spans())} in memory (~${accepted('memory')} requests), ` +
        `${format(await targets.official.spans())} encoded (~${accepted('official')})`,
    );
    for (const target of Object.values(targets)) await target.stop();
    console.log(
      `OTLP sink: ${format(sink.spans)} spans in ${format(sink.requests)} requests ` +
        `(${(sink.bytes / 1e6).toFixed(1)} MB; ~${accepted('otlp')} requests accepted)` +
        (sink.unreadable > 0 ? `; ${sink.unreadable} requests it could not read` : ''),
    );
  } finally {
    for (const target of Object.values(targets)) await target.stop();
    sink.close();
    await admin.close();
    await nats.stop();
  }
}

/** Nanoseconds per `tracingActive()` call with no provider: the whole price of tracing off per hop. */
function offCheckNanos(): number {
  if (tracingActive()) throw new Error('a tracer provider is registered in the bench process');
  let active = 0;
  const n = 2_000_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (tracingActive()) active++;
  const nanos = Number(process.hrtime.bigint() - start) / n;
  if (active !== 0) throw new Error('unreachable');
  return nanos;
}

interface Target {
  address: string;
  cpuMicros(): Promise<number>;
  spans(): Promise<number>;
  stop(): Promise<void>;
}

async function startTarget(
  mode: 'off' | 'memory' | 'otlp' | 'official',
  natsUrl: string,
  sinkUrl: string,
  profileDir?: string,
): Promise<Target> {
  // Only what each mode sets: OTEL_* from the shell (a protocol, compression...) would change it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
  const child: ChildProcess = fork(new URL(import.meta.url), ['target', mode, natsUrl, prefix, sinkUrl], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=tracing-${mode}.cpuprofile`]
      : [],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const reply = <T>() =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`gateway (${mode}) exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        resolve(message as T);
      });
    });
  const { address } = await reply<{ address: string }>();
  const ask = async <T>(question: string) => {
    child.send(question);
    return reply<T>();
  };
  return {
    address,
    cpuMicros: async () => {
      const { user, system } = await ask<NodeJS.CpuUsage>('cpu');
      return user + system;
    },
    spans: () => ask<number>('spans'),
    async stop() {
      if (child.exitCode === null && child.connected) child.send('stop');
      await exited;
    },
  };
}

/**
 * `encode`: what a real OTLP exporter does before the network, encode the batch as protobuf; then
 * drop it. Otherwise an in-memory exporter that keeps only a count (memory stays flat).
 */
class CountingExporter implements SpanExporter {
  exported = 0;
  constructor(private readonly encode: boolean) {}
  export(spans: ReadableSpan[], done: (result: { code: ExportResultCode }) => void): void {
    if (this.encode) ProtobufTraceSerializer.serializeRequest(spans);
    this.exported += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

/** The child: the real gateway app (in-memory PGlite for schemas), traced or not. */
async function serveTarget(
  mode: string,
  natsUrl: string,
  streamPrefix: string,
  sinkUrl: string,
): Promise<void> {
  const exporter = new CountingExporter(mode === 'official');
  let telemetry: Telemetry | undefined;
  if (mode !== 'off') {
    process.env.OTEL_TRACES_SAMPLER = 'always_on';
    // `otlp`: configured as a deployment is, by the environment only.
    if (mode === 'otlp') process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = sinkUrl;
    telemetry = await startTelemetry({
      serviceName: 'fuze-bench-gateway',
      ...(mode === 'otlp' ? {} : { spanProcessors: [new BatchSpanProcessor(exporter)] }),
    });
  }
  const config = loadConfig({
    FUZE_NATS_URL: natsUrl,
    FUZE_STREAM_PREFIX: streamPrefix,
    FUZE_SCHEMAS_DIR: '/nonexistent/fuze-bench-schemas',
  });
  const logger = createLogger('warn', { component: `bench-gateway-${mode}` });
  const nats = await connectNats({ url: config.nats.url, name: `fuze-bench-gateway-${mode}`, logger });
  const publisher = new JetStreamPublisher(nats);
  const database = await openDatabase({});
  const schemas = new EventSchemaRegistry({ dir: config.gateway.schemasDir, db: database.db, logger });
  await schemas.start();
  const app = buildGatewayApp({
    config,
    logger,
    publisher,
    routing: defaultRouting,
    schemas,
    authenticator: createTokenAuthenticator({ adminToken: undefined }),
    readiness: async () => ({ nats: true, postgres: true }),
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ address });
  process.on('message', async (message: string) => {
    if (message === 'cpu') process.send?.(process.cpuUsage());
    else if (message === 'spans') process.send?.(exporter.exported);
    else if (message === 'stop') {
      await app.close();
      await telemetry?.shutdown();
      schemas.stop();
      await publisher.close();
      await nats.close();
      await database.close();
      process.exit(0);
    }
  });
}

if (process.argv[2] === 'target') {
  const [, , , mode, natsUrl, streamPrefix, sinkUrl] = process.argv;
  await serveTarget(mode!, natsUrl!, streamPrefix!, sinkUrl!);
}

interface OtlpSink {
  url: string;
  requests: number;
  unreadable: number;
  bytes: number;
  spans: number;
  close(): void;
}

/** An OTLP/HTTP trace receiver that answers 200 and counts the spans in each request. */
async function startOtlpSink(): Promise<OtlpSink> {
  const sink = { url: '', requests: 0, bytes: 0, spans: 0, unreadable: 0, close: () => server.close() };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      sink.requests += 1;
      sink.bytes += body.length;
      try {
        sink.spans += countSpans(body);
      } catch (err) {
        sink.unreadable += 1;
        console.error(`OTLP sink: a request it cannot read (${(err as Error).message})`);
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  return sink;
}

/** Spans in an ExportTraceServiceRequest: resource_spans (1) > scope_spans (2) > spans (2). */
function countSpans(request: Uint8Array): number {
  let spans = 0;
  for (const resourceSpans of fields(request, 1))
    for (const scopeSpans of fields(resourceSpans, 2)) spans += fields(scopeSpans, 2).length;
  return spans;
}

/** The length-delimited fields numbered `wanted` of a protobuf message (other fields skipped). */
function fields(message: Uint8Array, wanted: number): Uint8Array[] {
  const found: Uint8Array[] = [];
  let pos = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= message.length) break;
      const byte = message[pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error('a varint runs past the end');
  };
  while (pos < message.length) {
    const tag = varint();
    const wireType = tag & 7;
    if (wireType === 0) varint();
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const length = varint();
      if (pos + length > message.length) throw new Error('a field runs past the end');
      if (tag >>> 3 === wanted) found.push(message.subarray(pos, pos + length));
      pos += length;
    } else throw new Error(`unexpected wire type ${wireType}`);
  }
  return found;
}
