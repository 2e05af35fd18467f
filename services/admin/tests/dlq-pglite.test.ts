import { getReplayJob, listAuditLog } from '@fuze/db';
import { waitFor } from '@fuze/test/harness';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DlqBus, deadLetterRecord, entryState, startDlqBus, startDlqFixture } from './dlq-fixture.js';

let bus: DlqBus;
beforeAll(async () => {
  bus = await startDlqBus();
});
afterAll(async () => {
  await bus?.close();
});

test('on embedded PGlite (the laptop default): index, list, replay, purge', async () => {
  const dlq = await startDlqFixture(bus, { database: 'pglite' });
  try {
    const records = Array.from({ length: 6 }, (_, i) =>
      deadLetterRecord({ eventId: `p-${i}`, key: `k-${i % 2}`, acceptedAt: 1_900_000_000_000 + i }),
    );
    for (const r of records) await dlq.deadLetter(r);
    await dlq.indexed(6);
    const page = await dlq.call<{ items: unknown[]; nextCursor: string }>('GET', '/v1/dlq?limit=4');
    expect(page.body.items).toHaveLength(4);
    const created = await dlq.call<{ id: string; total: number }>('POST', '/v1/dlq/replay', {
      ids: records.slice(0, 4).map((r) => r.id),
    });
    expect(created.body.total).toBe(4);
    await waitFor(async () => (await getReplayJob(dlq.database.db, created.body.id))?.state === 'completed');
    const deliveries = await dlq.deliveries();
    expect(deliveries.map((d) => d.envelope.attributes.id)).toEqual(['p-0', 'p-1', 'p-2', 'p-3']);
    const purge = await dlq.call('DELETE', '/v1/dlq?state=dead');
    expect(purge.body).toMatchObject({ purged: 2, deletedFromStream: 2 });
    expect(await entryState(dlq.database, records[5]!.id)).toBe('purged');
    expect(await listAuditLog(dlq.database.db)).toHaveLength(2);
  } finally {
    await dlq.close();
  }
});
