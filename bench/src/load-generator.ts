import { connect, type Socket } from 'node:net';
import type { Rate } from './measure.js';

export interface HttpLoad {
  /** http://host:port/path */
  url: string;
  /** Keep-alive connections, each with one request outstanding. */
  connections: number;
  durationMs: number;
  contentType: string;
  /** The body of the next request (unique events need unique ids). */
  body(): string;
  /** Events per request, to report events/s beside requests/s. */
  eventsPerRequest: number;
}

export interface HttpLoadResult extends Rate {
  /** Requests per second; `perSecond` counts events. */
  requestsPerSecond: number;
  /** Answers other than 202, by status. */
  errors: Record<number, number>;
}

/**
 * A closed-loop HTTP/1.1 load generator: `connections` keep-alive sockets, each sending its next
 * request as soon as the previous answer is complete. Raw sockets and a minimal response reader
 * (status line and content-length) rather than node:http's client, which costs more CPU per
 * request than the servers under test and shares their two cores.
 */
export async function runHttpLoad(load: HttpLoad): Promise<HttpLoadResult> {
  const target = new URL(load.url);
  const head = `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: ${load.contentType}\r\nContent-Length: `;
  const errors: Record<number, number> = {};
  let requests = 0;
  const start = performance.now();
  const deadline = start + load.durationMs;
  const sockets: Socket[] = [];

  const connection = () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
      sockets.push(socket);
      let pending: Buffer = Buffer.alloc(0);
      const send = () => {
        const body = load.body();
        socket.write(`${head}${Buffer.byteLength(body)}\r\n\r\n${body}`);
      };
      socket.once('connect', send);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        const response = readResponse(pending);
        if (!response) return;
        pending = pending.subarray(response.length);
        requests++;
        if (response.status !== 202) errors[response.status] = (errors[response.status] ?? 0) + 1;
        if (performance.now() < deadline) send();
        else resolve();
      });
    });

  try {
    await Promise.all(Array.from({ length: load.connections }, connection));
  } finally {
    for (const socket of sockets) socket.destroy();
  }
  const seconds = (performance.now() - start) / 1000;
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  const count = (requests - failed) * load.eventsPerRequest;
  return { count, seconds, perSecond: count / seconds, requestsPerSecond: requests / seconds, errors };
}

const headerEnd = Buffer.from('\r\n\r\n');

/** The status and total length of the first complete response in `data`, if there is one. */
function readResponse(data: Buffer): { status: number; length: number } | undefined {
  const end = data.indexOf(headerEnd);
  if (end < 0) return undefined;
  const head = data.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!match)
    throw new Error(`the server answered ${status} without content-length; chunked bodies are not read`);
  const length = end + headerEnd.length + Number(match[1]);
  return data.length >= length ? { status, length } : undefined;
}
