import { listAuditLog } from '@fuze/db';
import { readStream } from '@fuze/test/harness';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DlqBus, deadLetterRecord, startDlqBus, startDlqFixture } from './dlq-fixture.js';

let bus: DlqBus;
beforeAll(async () => {
  bus = await startDlqBus();
});
afterAll(async () => {
  await bus?.close();
});

interface Page {
  items: Array<Record<string, unknown> & { id: string; eventId: string }>;
  nextCursor?: string;
}

/** Six dead letters spread over targets, rules, types, sources, errors and one hour each. */
function corpus() {
  const at = (hour: number) => new Date(Date.UTC(2030, 0, 1, hour)).toISOString();
  return [
    deadLetterRecord({ eventId: 'a', target: 'billing', rule: 'orders', deadLetteredAt: at(1) }),
    deadLetterRecord({
      eventId: 'b',
      target: 'billing',
      rule: 'refunds',
      type: 'com.shop.refund.issued',
      deadLetteredAt: at(2),
    }),
    deadLetterRecord({
      eventId: 'c',
      target: 'crm',
      rule: 'orders',
      source: 'urn:pos',
      errorClass: 'TimeoutError',
      message: 'no answer within 5s',
      deadLetteredAt: at(3),
    }),
    deadLetterRecord({
      eventId: 'd',
      target: 'crm',
      rule: 'orders',
      errorClass: 'NonRetryableError',
      message: 'Customer 100% unknown',
      httpStatus: 422,
      deadLetteredAt: at(4),
    }),
    deadLetterRecord({ eventId: 'e', target: 'ledger', rule: 'orders', bus: 'eu', deadLetteredAt: at(5) }),
    deadLetterRecord({
      eventId: 'f',
      target: 'billing',
      rule: 'orders',
      stage: 'route',
      errorClass: 'InputTransformError',
      message: 'path $.data.total does not exist',
      deadLetteredAt: at(6),
    }),
  ];
}

test('GET /v1/dlq: every filter, newest first, opaque cursor pagination', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    for (const r of corpus()) await dlq.deadLetter(r);
    await dlq.indexed(6);
    const ids = async (query: string) => {
      const res = await dlq.call<Page>('GET', `/v1/dlq?${query}`);
      expect(res.status).toBe(200);
      return res.body.items.map((i) => i.eventId);
    };
    expect(await ids('')).toEqual(['f', 'e', 'd', 'c', 'b', 'a']);
    expect(await ids('target=billing')).toEqual(['f', 'b', 'a']);
    expect(await ids('rule=orders')).toEqual(['f', 'e', 'd', 'c', 'a']);
    expect(await ids('bus=eu')).toEqual(['e']);
    expect(await ids('type=com.shop.refund.issued')).toEqual(['b']);
    expect(await ids('source=urn%3Apos')).toEqual(['c']);
    expect(await ids('from=2030-01-01T02:00:00Z&to=2030-01-01T04:00:00Z')).toEqual(['d', 'c', 'b']);
    expect(await ids('error=timeout')).toEqual(['c']); // error class, case-insensitive
    expect(await ids('error=100%25')).toEqual(['d']); // % is literal, not a wildcard
    expect(await ids('error=%24.data')).toEqual(['f']);
    expect(await ids('target=crm&error=unknown')).toEqual(['d']);
    expect(await ids('state=dead&target=ledger')).toEqual(['e']);
    expect(await ids('state=replayed')).toEqual([]);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await dlq.call<Page>(
        'GET',
        `/v1/dlq?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      seen.push(...res.body.items.map((i) => i.eventId));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(['f', 'e', 'd', 'c', 'b', 'a']);

    const page = await dlq.call<Page>('GET', '/v1/dlq?target=billing&limit=1');
    const next = await dlq.call<Page>(
      'GET',
      `/v1/dlq?target=billing&limit=5&cursor=${encodeURIComponent(page.body.nextCursor!)}`,
    );
    expect(next.body.items.map((i) => i.eventId)).toEqual(['b', 'a']);
    expect(next.body.nextCursor).toBeUndefined();

    const badCursor = await dlq.call('GET', '/v1/dlq?cursor=nonsense');
    expect(badCursor).toMatchObject({ status: 400, body: { code: 'FUZE_INVALID_REQUEST' } });
    const badState = await dlq.call('GET', '/v1/dlq?state=lost');
    expect(badState).toMatchObject({ status: 400, body: { code: 'FUZE_INVALID_REQUEST' } });
  } finally {
    await dlq.close();
  }
});

test('GET /v1/dlq/:id: the index entry, the full record from the stream and the decoded body', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    const record = deadLetterRecord({ eventId: 'o-1', key: 'cust-1', data: { orderId: 'o-1', total: 12 } });
    record.failure.responseExcerpt = '{"error":"unavailable"}';
    await dlq.deadLetter(record);
    await dlq.indexed(1);
    const res = await dlq.call('GET', `/v1/dlq/${record.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: record.id,
      eventId: 'o-1',
      target: 'billing',
      state: 'dead',
      partitionKey: 'cust-1',
      httpStatus: 503,
      dlqSeq: 1,
      record,
      body: {
        contentType: 'application/cloudevents+json',
        encoding: 'json',
        value: { id: 'o-1', source: 'urn:shop', data: { orderId: 'o-1', total: 12 } },
      },
      replayFailures: [],
    });
    const missing = await dlq.call('GET', '/v1/dlq/nope');
    expect(missing).toMatchObject({ status: 404, body: { code: 'FUZE_DEAD_LETTER_NOT_FOUND' } });
  } finally {
    await dlq.close();
  }
});

test('DELETE /v1/dlq purges what the filter matches: count, stream records deleted, audit record', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    const records = corpus();
    for (const r of records) await dlq.deadLetter(r);
    await dlq.indexed(6);

    const unfiltered = await dlq.call('DELETE', '/v1/dlq');
    expect(unfiltered).toMatchObject({ status: 400, body: { code: 'FUZE_FILTER_REQUIRED' } });

    const purge = await dlq.call('DELETE', '/v1/dlq?target=crm');
    expect(purge).toMatchObject({ status: 200, body: { purged: 2, skipped: 0, deletedFromStream: 2 } });
    const left = await readStream(bus.nc, dlq.streams.dlq);
    expect(left.map((m) => m.json<{ attributes: { id: string } }>().attributes.id).sort()).toEqual(
      ['a', 'b', 'e', 'f'].sort(),
    );

    // Purged entries leave the default listing; they can still be listed and shown (record gone).
    const listed = await dlq.call<Page>('GET', '/v1/dlq');
    expect(listed.body.items.map((i) => i.eventId)).toEqual(['f', 'e', 'b', 'a']);
    const purged = await dlq.call<Page>('GET', '/v1/dlq?state=purged');
    expect(purged.body.items.map((i) => i.eventId)).toEqual(['d', 'c']);
    const shown = await dlq.call('GET', `/v1/dlq/${records[2]!.id}`);
    expect(shown.body).toMatchObject({ state: 'purged', record: null, body: null });

    const again = await dlq.call('DELETE', '/v1/dlq?target=crm');
    expect(again.body).toMatchObject({ purged: 0 });

    const all = await dlq.call('DELETE', '/v1/dlq?all=true');
    expect(all.body).toMatchObject({ purged: 4, deletedFromStream: 4 });
    expect((await bus.jsm.streams.info(dlq.streams.dlq)).state.messages).toBe(0);

    const audit = await listAuditLog(dlq.database.db, { action: 'dlq.purge' });
    expect(audit.map((a) => a.details)).toEqual([
      { all: true, filter: {}, purged: 4, skipped: 0 },
      { all: false, filter: { target: 'crm' }, purged: 0, skipped: 0 },
      { all: false, filter: { target: 'crm' }, purged: 2, skipped: 0 },
    ]);
    expect(audit.every((a) => a.principal === 'anonymous')).toBe(true);
    expect((purge.body as { auditId: number }).auditId).toBe(audit[2]!.id);
  } finally {
    await dlq.close();
  }
});

test('the DLQ and replay routes are in the OpenAPI document', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    const doc = await dlq.call<{ paths: Record<string, Record<string, unknown>> }>('GET', '/docs/json');
    expect(Object.keys(doc.body.paths['/v1/dlq']!).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.body.paths['/v1/dlq/{id}']!)).toEqual(['get']);
    expect(Object.keys(doc.body.paths['/v1/dlq/replay']!)).toEqual(['post']);
    expect(Object.keys(doc.body.paths['/v1/replays/{id}']!).sort()).toEqual(['delete', 'get']);
  } finally {
    await dlq.close();
  }
});
