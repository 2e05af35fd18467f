import type { Logger } from '@fuze/core';
import { decodeDeadLetterMessage, MalformedDeadLetterError, retryDelayMs } from '@fuze/core';
import { type FuzeDb, indexDeadLetters, type StreamedDeadLetter } from '@fuze/db';
import { nanos } from '@nats-io/transport-node';
import { type DeadLetterAnnouncer, FiringNotCommittedError } from './dead-letter-announcer.js';
import { isConsumerNotFound, type JetStreamClient, type JetStreamManager } from './jetstream.js';

export interface DlqIndexerOptions {
  db: FuzeDb;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** `<P>_DLQ` */
  dlqStream: string;
  /** The durable consumer all admin instances share, e.g. `<P>_DLQ_INDEXER`. */
  consumerName: string;
  logger: Logger;
  /** Runs after each batch is indexed and before it is acked (system events, timer outcomes). */
  announce?: DeadLetterAnnouncer;
  /** Records upserted per transaction (default 256). */
  batchSize?: number;
  /** Longest pause before a record whose indexing failed comes back (default 5 s). */
  maxRetryDelayMs?: number;
}

export interface RunningDlqIndexer {
  /** Stops pulling; a batch being written finishes (and is acked) first. */
  stop(): Promise<void>;
}

type ConsumerMessages = Awaited<
  ReturnType<Awaited<ReturnType<JetStreamClient['consumers']['get']>>['consume']>
>;
type JsMsg = ConsumerMessages extends AsyncIterable<infer M> ? M : never;

const ackWaitMs = 30_000;
const maxAckPending = 1_000;

/**
 * Keeps the `dead_letters` index in step with the DLQ stream: a durable consumer shared by every
 * admin instance upserts each record and acks it only once the transaction committed and the
 * batch was announced (system events on the `fuze` bus, timer outcomes; at least once). When
 * Postgres is down nothing is acked: the records are NAKed with a growing delay and indexed once
 * it is back (the stream holds them meanwhile, so nothing is lost). Upserts are idempotent, so a
 * redelivery (lost ack, crash between commit and ack) changes nothing.
 */
export async function startDlqIndexer(options: DlqIndexerOptions): Promise<RunningDlqIndexer> {
  const { logger } = options;
  const batchSize = options.batchSize ?? 256;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
  await ensureConsumer(options);

  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let buffer: JsMsg[] = [];
  let flushing: Promise<void> | undefined;
  let failing = false;

  const flush = async (): Promise<void> => {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchSize);
      buffer = buffer.slice(batch.length);
      await indexBatch(batch);
    }
  };
  const schedule = () => {
    if (flushing) return;
    // One event-loop turn lets the messages of one socket read join the same batch.
    flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(flush).finally(() => {
      flushing = undefined;
      if (buffer.length > 0 && !stopped) schedule();
    });
  };

  const indexBatch = async (batch: JsMsg[]): Promise<void> => {
    const entries: StreamedDeadLetter[] = [];
    const indexed: JsMsg[] = [];
    for (const msg of batch) {
      try {
        entries.push({ record: decodeDeadLetterMessage(msg.data), streamSeq: msg.seq });
        indexed.push(msg);
      } catch (err) {
        if (!(err instanceof MalformedDeadLetterError)) throw err;
        // A record nobody can index would come back forever: set it aside (it stays in the stream).
        logger.error(
          { err, seq: msg.seq, subject: msg.subject },
          'DLQ message is not a dead-letter record; not indexed',
        );
        msg.term();
      }
    }
    try {
      await indexDeadLetters(options.db, entries);
      await options.announce?.(entries.map((e) => e.record));
    } catch (err) {
      if (err instanceof FiringNotCommittedError) logger.debug({ keys: err.keys }, err.message);
      else {
        if (!failing)
          logger.warn(
            { err },
            'cannot index or announce dead letters (Postgres or NATS down?); they stay in the DLQ and are retried',
          );
        failing = true;
      }
      for (const msg of indexed) {
        msg.nak(retryDelayMs(msg.info.deliveryCount, 250, maxRetryDelayMs));
      }
      return;
    }
    if (failing) logger.info('indexing dead letters again');
    failing = false;
    for (const msg of indexed) msg.ack();
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        const consumer = await options.js.consumers.get(options.dlqStream, options.consumerName);
        messages = await consumer.consume({ max_messages: maxAckPending });
        if (stopped) messages.stop();
        for await (const msg of messages) {
          buffer.push(msg);
          schedule();
        }
      } catch (err) {
        if (stopped) break;
        logger.warn({ err }, 'DLQ indexer lost its consumer; re-opening');
        if (isConsumerNotFound(err)) await ensureConsumer(options).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      messages?.stop();
      await loop;
      await flushing;
      // Whatever was pulled but not written goes back at once, for another instance to take.
      for (const msg of buffer) msg.nak();
      buffer = [];
    },
  };
}

async function ensureConsumer(options: DlqIndexerOptions): Promise<void> {
  try {
    await options.jsm.consumers.info(options.dlqStream, options.consumerName);
    return;
  } catch (err) {
    if (!isConsumerNotFound(err)) throw err;
  }
  await options.jsm.consumers.add(options.dlqStream, {
    durable_name: options.consumerName,
    description: 'Fuze admin: indexes dead-letter records into Postgres',
    ack_policy: 'explicit',
    deliver_policy: 'all',
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: maxAckPending,
    max_deliver: -1,
  });
}
