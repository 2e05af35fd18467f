import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@fuze/test/harness';
import * as grpc from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, test } from 'vitest';
import { createTraceExporter, fuzeTracer, startTelemetry } from '../src/index.js';

// Real collectors (an HTTP server, a gRPC server) receive what the exporters Fuze configures send:
// the bytes the official serializer writes for the same spans.

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});

interface Received {
  body: Buffer;
  headers: IncomingHttpHeaders | Record<string, unknown>;
}

/** Spans through `exporter` and an in-memory twin; returns what the official serializer makes of each. */
async function sendSpans(exporter: SpanExporter, count: number): Promise<Buffer[]> {
  const twin = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'fuze-exporter-test' }),
    spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(twin)],
  });
  const tracer = provider.getTracer('fuze', '0.1.0');
  for (let i = 0; i < count; i++) {
    tracer
      .startSpan(`publish fuze.events`, {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.message.id': `e-${i}`,
          'cloudevents.event_type': 'grüße',
        },
      })
      .end();
  }
  await provider.forceFlush();
  const expected = twin
    .getFinishedSpans()
    .map((span) => Buffer.from(ProtobufTraceSerializer.serializeRequest([span])!));
  await provider.shutdown();
  return expected;
}

function sortedHex(buffers: Buffer[]): string[] {
  return buffers.map((b) => b.toString('hex')).sort();
}

/** An OTLP/HTTP collector that records each request and answers `status` (200 unless told). */
async function startHttpCollector(status: (request: Received) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks), headers: { ...req.headers, path: req.url } });
      res.writeHead(status(received.at(-1)!), { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { received, server, port: (server.address() as AddressInfo).port };
}

describe('OTLP protobuf trace exporters', () => {
  test('http/protobuf: POSTs the official bytes to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', async () => {
    const { received, server, port } = await startHttpCollector();
    try {
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${port}/v1/traces`;
      process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = 'x-tenant=fuze';
      const exporter = await createTraceExporter({ kind: 'otlp', protocol: 'http/protobuf' });
      const expected = await sendSpans(exporter, 5);
      await waitFor(() => received.length === 5, { message: 'five export requests' });
      expect(sortedHex(received.map((r) => r.body))).toEqual(sortedHex(expected));
      expect(received[0]!.headers).toMatchObject({
        path: '/v1/traces',
        'content-type': 'application/x-protobuf',
        'x-tenant': 'fuze',
      });
    } finally {
      server.close();
    }
  });

  test('http/protobuf: a collector that answers 503 gets the same bytes again, and nothing is lost', async () => {
    const refusedOnce = new Set<string>();
    const { received, server, port } = await startHttpCollector((request) => {
      const key = request.body.toString('hex');
      if (refusedOnce.has(key)) return 200;
      refusedOnce.add(key);
      return 503;
    });
    try {
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${port}/v1/traces`;
      const exporter = await createTraceExporter({ kind: 'otlp', protocol: 'http/protobuf' });
      const expected = await sendSpans(exporter, 3);
      await waitFor(() => received.length === 6, { message: 'three refused requests and their retries' });
      // Each span's request twice, byte for byte.
      expect(sortedHex(received.map((r) => r.body))).toEqual(sortedHex([...expected, ...expected]));
    } finally {
      server.close();
    }
  });

  test('grpc: calls TraceService/Export with the official bytes', async () => {
    const received: Buffer[] = [];
    const server = new grpc.Server();
    const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
    server.addService(
      {
        Export: {
          path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          requestStream: false,
          responseStream: false,
          requestSerialize: bytes.serialize,
          requestDeserialize: bytes.deserialize,
          responseSerialize: bytes.serialize,
          responseDeserialize: bytes.deserialize,
        },
      },
      {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, reply: grpc.sendUnaryData<Buffer>) => {
          received.push(call.request);
          reply(null, Buffer.alloc(0)); // an empty ExportTraceServiceResponse: all accepted
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    try {
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${port}`;
      const exporter = await createTraceExporter({ kind: 'otlp', protocol: 'grpc' });
      const expected = await sendSpans(exporter, 3);
      await waitFor(() => received.length === 3, { message: 'three Export calls' });
      expect(sortedHex(received)).toEqual(sortedHex(expected));
    } finally {
      server.forceShutdown();
    }
  });

  test('startTelemetry: OTEL_EXPORTER_OTLP_ENDPOINT alone sends the spans there (http/protobuf)', async () => {
    const { received, server, port } = await startHttpCollector();
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
      const telemetry = await startTelemetry({ serviceName: 'fuze-wired' });
      expect(telemetry.tracing).toBe(true);
      fuzeTracer().startSpan('wired-span').end();
      await telemetry.shutdown(); // flushes the batch
      expect(received).toHaveLength(1);
      expect(received[0]!.headers).toMatchObject({
        path: '/v1/traces',
        'content-type': 'application/x-protobuf',
      });
      const body = received[0]!.body;
      expect(body.includes(Buffer.from('wired-span'))).toBe(true);
      expect(body.includes(Buffer.from('fuze-wired'))).toBe(true);
    } finally {
      server.close();
    }
  });
});
