import { dlqSubject } from '@fuze/core';
import { getDeadLetter, listDeadLetters } from '@fuze/db';
import { type PostgresServerHandle, startPostgresServer, waitFor } from '@fuze/test/harness';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DlqBus, deadLetterRecord, startDlqBus, startDlqFixture } from './dlq-fixture.js';

let bus: DlqBus;
beforeAll(async () => {
  bus = await startDlqBus();
});
afterAll(async () => {
  await bus?.close();
});

test('every dead-letter record is indexed with its failure, trace id and stream sequence', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const record = deadLetterRecord({
      eventId: 'e-1',
      subject: 'order/1',
      key: 'customer-7',
      eventSeq: 42,
      traceparent,
      httpStatus: 500,
      attempts: 10,
      message: 'the target answered 500',
    });
    record.failure.responseExcerpt = 'boom';
    await dlq.deadLetter(record);
    await dlq.indexed(1);
    const row = await getDeadLetter(dlq.database.db, record.id);
    expect(row).toMatchObject({
      id: record.id,
      bus: 'default',
      rule: 'orders',
      target: 'billing',
      type: 'com.shop.order.placed',
      source: 'urn:shop',
      eventId: 'e-1',
      subject: 'order/1',
      partitionKey: 'customer-7',
      stage: 'deliver',
      errorClass: 'HttpStatusError',
      errorMessage: 'the target answered 500',
      httpStatus: 500,
      attempts: 10,
      eventSeq: 42,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      dlqStreamSeq: 1,
      state: 'dead',
      replayOf: null,
    });
    expect(row!.firstAttemptAt.toISOString()).toBe(record.failure.firstAttemptAt);
    expect(row!.deadLetteredAt.toISOString()).toBe(record.deadLetteredAt);
    expect(row!.acceptedAt.getTime()).toBe(record.acceptedAt);
  } finally {
    await dlq.close();
  }
});

test('indexing is idempotent, links replay failures, and sets aside what is not a record', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    const first = deadLetterRecord({ eventId: 'e-1' });
    await dlq.deadLetter(first);
    // Not a dead-letter record: terminated and logged, and it does not block what follows.
    await bus.publisher.publish({
      subject: dlqSubject(dlq.prefix, 'billing'),
      payload: new TextEncoder().encode('{"not":"a record"}'),
      msgId: 'garbage',
    });
    const failedReplay = {
      ...deadLetterRecord({ eventId: 'e-1' }),
      id: 'replay-failure-1',
      replay: { jobId: 'job-1', deadLetterId: first.id },
    };
    await dlq.deadLetter(failedReplay);
    await dlq.indexed(2);
    expect(await getDeadLetter(dlq.database.db, 'replay-failure-1')).toMatchObject({
      replayOf: first.id,
      replayOfJob: 'job-1',
    });

    // The same record again, past the dedupe window (another stream message): one entry, state kept.
    await dlq.database.db.execute(`update dead_letters set state = 'replayed' where id = '${first.id}'`);
    const info = await bus.jsm.streams.info(dlq.streams.dlq);
    await bus.publisher.publish({
      subject: dlqSubject(dlq.prefix, 'billing'),
      payload: new TextEncoder().encode(JSON.stringify(first)),
      msgId: `${first.id}-again`,
    });
    const consumer = () => bus.jsm.consumers.info(dlq.streams.dlq, `${dlq.prefix}_DLQ_INDEXER`);
    await waitFor(async () => (await consumer()).ack_floor.stream_seq === info.state.last_seq + 1, {
      message: 'the copy to be acked',
    });
    const rows = (await listDeadLetters(dlq.database.db, {})).items;
    expect(rows.map((r) => r.id).sort()).toEqual([first.id, 'replay-failure-1'].sort());
    expect((await getDeadLetter(dlq.database.db, first.id))?.state).toBe('replayed');
    expect((await consumer()).num_ack_pending).toBe(0);
  } finally {
    await dlq.close();
  }
});

test('Postgres stopped while dead letters arrive: nothing is acked, the index catches up after the restart', {
  timeout: 120_000,
}, async () => {
  let pg: PostgresServerHandle | undefined = await startPostgresServer();
  const dlq = await startDlqFixture(bus, { worker: false, database: { url: pg.url } });
  try {
    const before = Array.from({ length: 20 }, (_, i) => deadLetterRecord({ eventId: `before-${i}` }));
    for (const r of before) await dlq.deadLetter(r);
    await dlq.indexed(20);

    await pg.stop();
    const during = Array.from({ length: 100 }, (_, i) =>
      deadLetterRecord({ eventId: `during-${i}`, key: `k-${i % 7}` }),
    );
    for (const r of during) await dlq.deadLetter(r);
    // The DLQ stream holds them all; the indexer cannot commit, so it acks none of them.
    const consumer = () => bus.jsm.consumers.info(dlq.streams.dlq, `${dlq.prefix}_DLQ_INDEXER`);
    await waitFor(async () => (await consumer()).delivered.stream_seq >= 120, {
      message: 'the indexer to have tried the new records',
      timeoutMs: 20_000,
    });
    expect((await consumer()).ack_floor.stream_seq).toBe(20);
    expect((await bus.jsm.streams.info(dlq.streams.dlq)).state.messages).toBe(120);

    await pg.restart();
    await dlq.indexed(120);
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await listDeadLetters(dlq.database.db, {}, { cursor, limit: 50 });
      for (const row of page.items) ids.add(row.id);
      cursor = page.nextCursor;
    } while (cursor);
    expect([...ids].sort()).toEqual([...before, ...during].map((r) => r.id).sort());
    await waitFor(
      async () => (await consumer()).num_ack_pending === 0 && (await consumer()).num_pending === 0,
      {
        message: 'every record acked',
      },
    );
  } finally {
    await dlq.close();
    await pg[Symbol.asyncDispose]();
    pg = undefined;
  }
});
