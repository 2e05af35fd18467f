import type { ServerResponse } from 'node:http';
import type { CloudEventRecord, Logger } from '@fuze/core';
import type { CompiledPattern } from '@fuze/rules';
import type { ServiceContext } from '@fuze/runtime';
import { fuzeMetrics } from '@fuze/telemetry';

type JetStreamClient = ServiceContext['js'];

/** Where a tail starts in the events stream. */
export type TailStart = { kind: 'new' } | { kind: 'sequence'; seq: number } | { kind: 'time'; at: string };

export interface EventTailOptions {
  js: JetStreamClient;
  /** `<P>_EVENTS` */
  stream: string;
  /** `<p>.events.<bus>.>` */
  filterSubject: string;
  start: TailStart;
  /** Only events that match are sent; none: every event of the bus. */
  pattern?: CompiledPattern;
  /** The client is dropped once this much is waiting to be written to it (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
  /** Called once the consumer is open, before the response's head is written (fastify's `hijack`). */
  onOpen?: () => void;
  logger: Logger;
}

export interface RunningTail {
  /** Ends the stream (the server is stopping); resolves once the consumer is stopped. */
  close(): Promise<void>;
  /** Resolves when the tail ended for any reason. */
  readonly done: Promise<void>;
}

/**
 * Streams a bus's events to one HTTP client as Server-Sent Events: `id:` is the event's sequence
 * in the events stream (a reconnecting client sends it back as `Last-Event-ID`), `data:` the
 * CloudEvent as one line of JSON. It reads through its own ordered consumer, which the server
 * keeps apart from every router and dispatcher consumer, so a tail never slows delivery: when the
 * client reads slower than events arrive and `maxBufferedBytes` are waiting, the client is
 * dropped (an `event: dropped` names the last id sent, to resume from) rather than buffered.
 */
export async function startEventTail(
  response: ServerResponse,
  options: EventTailOptions,
): Promise<RunningTail> {
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  // "From now" is the stream's next sequence, read here: `deliver_policy: new` would be decided
  // when the ordered consumer is created, in the background, and could miss what arrives first.
  const start =
    options.start.kind === 'new'
      ? {
          kind: 'sequence' as const,
          seq: (await (await options.js.streams.get(options.stream)).info()).state.last_seq + 1,
        }
      : options.start;
  const consumer = await options.js.consumers.get(options.stream, {
    filter_subjects: options.filterSubject,
    ...(start.kind === 'sequence'
      ? { deliver_policy: 'by_start_sequence' as const, opt_start_seq: start.seq }
      : { deliver_policy: 'by_start_time' as const, opt_start_time: start.at }),
  });
  // Pulls that expire every 10 s carry heartbeats every 5 s: a consumer lost with its server (a
  // NATS restart) is noticed and recreated at the next sequence within seconds, not half a minute.
  const messages = await consumer.consume({ max_messages: 256, expires: 10_000 });
  void (async () => {
    for await (const status of messages.status()) {
      if (status.type === 'ordered_consumer_recreated' || status.type === 'heartbeats_missed')
        options.logger.debug({ status }, 'tail consumer recovering');
    }
  })().catch(() => {});
  options.onOpen?.();
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  fuzeMetrics.tailClients.inc();
  let lastId: number | undefined;
  let ended = false;

  const end = (reason?: string) => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    messages.stop();
    fuzeMetrics.tailClients.dec();
    if (reason !== undefined && !response.destroyed) {
      response.end(`event: dropped\ndata: ${JSON.stringify({ reason, lastEventId: lastId ?? null })}\n\n`);
    } else response.end();
  };
  const heartbeat = setInterval(() => {
    if (!response.destroyed) response.write(': keep-alive\n\n');
  }, options.heartbeatMs ?? 15_000);
  response.on('close', () => end());
  // A client that left while the consumer was being created has already closed: end at once.
  if (response.destroyed || response.socket === null || response.socket.destroyed) end();

  if (!ended) response.write(': tailing\n\n');
  const done = (async () => {
    try {
      for await (const msg of messages) {
        if (ended || response.destroyed) break;
        const text =
          options.pattern || hasLineBreak(msg.data) ? matchingLine(msg.data, options.pattern) : msg.data;
        if (text === undefined) continue;
        lastId = msg.seq;
        response.write(`id: ${msg.seq}\ndata: `);
        response.write(text);
        response.write('\n\n');
        if (response.writableLength > maxBuffered) {
          fuzeMetrics.tailDropped.inc();
          options.logger.info(
            { lastEventId: lastId, buffered: response.writableLength },
            'tail client reads too slowly; dropped it (it may reconnect with Last-Event-ID)',
          );
          end('the client read too slowly: reconnect with Last-Event-ID to resume');
          break;
        }
      }
    } catch (err) {
      options.logger.warn({ err }, 'tail consumer failed; ending the stream');
    } finally {
      end();
    }
  })();

  return {
    done,
    async close() {
      end();
      await done;
    },
  };
}

/** One line of JSON for `data:` when the event matches (or no pattern is given); else undefined. */
function matchingLine(data: Uint8Array, pattern: CompiledPattern | undefined): string | undefined {
  let event: CloudEventRecord;
  try {
    event = JSON.parse(new TextDecoder().decode(data)) as CloudEventRecord;
  } catch {
    return undefined; // not an event (not written by Fuze): the router skips it too
  }
  if (pattern && !pattern.matches(event)) return undefined;
  return JSON.stringify(event);
}

/** Stored JSON may span lines (the gateway stores what it received); an SSE `data:` may not. */
function hasLineBreak(data: Uint8Array): boolean {
  return data.includes(0x0a) || data.includes(0x0d);
}
