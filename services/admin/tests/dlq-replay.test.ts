import { deadLetterId, deliveryMessageId, partitionFor, routerDeadLetterTarget } from '@fuze/core';
import { claimReplayJob, getDeadLetter, getReplayJob, listAuditLog, type ReplayJobRow } from '@fuze/db';
import { readStream, waitFor } from '@fuze/test/harness';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  type DlqBus,
  type DlqFixture,
  deadLetterRecord,
  entryState,
  ManualClock,
  type RecordSpec,
  startDlqBus,
  startDlqFixture,
} from './dlq-fixture.js';

let bus: DlqBus;
beforeAll(async () => {
  bus = await startDlqBus();
});
afterAll(async () => {
  await bus?.close();
});

const rules = `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: orders }
spec:
  pattern: { type: [com.shop.order.placed] }
  targets:
    - name: billing
      http: { url: "http://127.0.0.1:9/billing" }
      ordering: { partitionKey: "$.data.customer", partitions: 4 }
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: crm-sync }
spec:
  pattern: { type: [com.shop.customer.updated] }
  targets:
    - name: crm
      http: { url: "http://127.0.0.1:9/crm" }
      ordering: { partitionKey: "$.data.customer", partitions: 8 }
`;

interface Created {
  id: string;
  total: number;
  state: string;
  skipped: { alreadyReplayed: number; inAnotherJob: number };
}

async function waitForJob(dlq: DlqFixture, id: string, state = 'completed'): Promise<ReplayJobRow> {
  return waitFor(
    async () => {
      const job = await getReplayJob(dlq.database.db, id);
      return job?.state === state ? job : undefined;
    },
    { message: `replay job ${id} to be ${state}`, timeoutMs: 20_000 },
  );
}

/**
 * 12 dead letters for billing over three keys plus two without a key, published to the DLQ out
 * of order: the bus accepted them in `eventId` order (acceptedAt / eventSeq).
 */
async function seed(dlq: DlqFixture, extra: Partial<RecordSpec> = {}) {
  const base = 1_900_000_000_000;
  const specs: RecordSpec[] = Array.from({ length: 14 }, (_, i) => ({
    eventId: `ev-${String(i).padStart(2, '0')}`,
    ...(i < 12 ? { key: `cust-${i % 3}` } : {}),
    acceptedAt: base + i * 10,
    eventSeq: 100 + i,
    ...extra,
  }));
  const records = specs.map(deadLetterRecord);
  const shuffled = [...records].reverse();
  for (const r of shuffled) await dlq.deadLetter(r);
  await dlq.indexed(records.length);
  return records;
}

test('replay by filter: republished to DELIVERY in per-key order, with original ids and replay markers', async () => {
  const dlq = await startDlqFixture(bus);
  try {
    await dlq.applyRules(rules);
    const records = await seed(dlq);
    // A second instance's worker competes for the same jobs.
    await dlq.startWorker();

    const created = await dlq.call<Created>('POST', '/v1/dlq/replay', { filter: { target: 'billing' } });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ total: 14, skipped: { alreadyReplayed: 0, inAnotherJob: 0 } });
    const jobId = created.body.id;
    const job = await waitForJob(dlq, jobId);
    expect(job).toMatchObject({ total: 14, done: 14, failed: 0 });

    const progress = await dlq.call('GET', `/v1/replays/${jobId}`);
    expect(progress).toMatchObject({
      status: 200,
      body: {
        id: jobId,
        state: 'completed',
        total: 14,
        done: 14,
        failed: 0,
        selection: { filter: { target: 'billing' } },
      },
    });

    const deliveries = await dlq.deliveries();
    expect(deliveries).toHaveLength(14);
    const byEvent = new Map(records.map((r) => [r.attributes.id!, r]));
    for (const d of deliveries) {
      const record = byEvent.get(d.envelope.attributes.id!)!;
      const partition =
        record.partitionKey === undefined ? 'unordered' : partitionFor(record.partitionKey, 4);
      expect(d.subject).toBe(`${dlq.prefix.toLowerCase()}.deliver.billing.${partition}`);
      expect(d.msgId).toBe(
        deliveryMessageId({ source: 'urn:shop', id: record.attributes.id! }, 'orders', 'billing', jobId),
      );
      expect(d.envelope).toMatchObject({
        attributes: record.attributes,
        bus: 'default',
        rule: 'orders',
        target: 'billing',
        contentType: 'application/cloudevents+json',
        acceptedAt: record.acceptedAt,
        eventSeq: record.eventSeq,
        replay: { jobId, deadLetterId: record.id },
      });
      expect(Buffer.from(d.envelope.body).toString('base64')).toBe(record.body);
      if (record.partitionKey !== undefined) expect(d.envelope.partitionKey).toBe(record.partitionKey);
    }
    // Per key, the order the bus accepted the events in (the DLQ held them in reverse).
    for (const key of ['cust-0', 'cust-1', 'cust-2']) {
      const order = deliveries
        .filter((d) => d.envelope.partitionKey === key)
        .map((d) => d.envelope.attributes.id);
      const expected = records.filter((r) => r.partitionKey === key).map((r) => r.attributes.id);
      expect(order).toEqual(expected);
    }

    for (const r of records) {
      expect(await getDeadLetter(dlq.database.db, r.id)).toMatchObject({
        state: 'replayed',
        replayJobId: jobId,
        replayCount: 1,
      });
    }
    const listed = await dlq.call<{ items: unknown[] }>('GET', '/v1/dlq?state=replayed');
    expect(listed.body.items).toHaveLength(14);

    // A second replay is refused, by filter and by ids.
    const again = await dlq.call('POST', '/v1/dlq/replay', { filter: { target: 'billing' } });
    expect(again).toMatchObject({ status: 409, body: { code: 'FUZE_ALREADY_REPLAYED' } });
    const againById = await dlq.call('POST', '/v1/dlq/replay', { ids: [records[0]!.id, records[1]!.id] });
    expect(againById).toMatchObject({ status: 409, body: { code: 'FUZE_ALREADY_REPLAYED' } });

    // force replays them again, as a new job (new Nats-Msg-Ids, so JetStream does not dedupe them).
    const forced = await dlq.call<Created>('POST', '/v1/dlq/replay', {
      ids: [records[0]!.id, records[1]!.id],
      force: true,
    });
    expect(forced).toMatchObject({ status: 202, body: { total: 2 } });
    await waitForJob(dlq, forced.body.id);
    const after = await dlq.deliveries();
    expect(after).toHaveLength(16);
    expect(after.slice(14).map((d) => d.envelope.replay?.jobId)).toEqual([forced.body.id, forced.body.id]);
    expect((await getDeadLetter(dlq.database.db, records[0]!.id))?.replayCount).toBe(2);

    const audit = await listAuditLog(dlq.database.db, { action: 'dlq.replay' });
    expect(audit.map((a) => a.details.jobId)).toEqual([forced.body.id, jobId]);
  } finally {
    await dlq.close();
  }
});

test('replay by ids to another target: its subject and partition count; bad requests are refused', async () => {
  const dlq = await startDlqFixture(bus);
  try {
    await dlq.applyRules(rules);
    const records = await seed(dlq);
    const picked = [records[5]!, records[1]!, records[12]!];

    expect(
      await dlq.call('POST', '/v1/dlq/replay', { ids: [picked[0]!.id], target: 'nowhere' }),
    ).toMatchObject({
      status: 400,
      body: { code: 'FUZE_UNKNOWN_TARGET' },
    });
    expect(await dlq.call('POST', '/v1/dlq/replay', { ids: ['missing-1', picked[0]!.id] })).toMatchObject({
      status: 404,
      body: { code: 'FUZE_DEAD_LETTER_NOT_FOUND', missing: ['missing-1'] },
    });
    expect(
      await dlq.call('POST', '/v1/dlq/replay', { ids: [picked[0]!.id], filter: { target: 'billing' } }),
    ).toMatchObject({ status: 400, body: { code: 'FUZE_INVALID_REQUEST' } });
    expect(await dlq.call('POST', '/v1/dlq/replay', { filter: {} })).toMatchObject({
      status: 400,
      body: { code: 'FUZE_FILTER_REQUIRED' },
    });
    expect(await dlq.call('GET', '/v1/replays/nope')).toMatchObject({
      status: 404,
      body: { code: 'FUZE_REPLAY_JOB_NOT_FOUND' },
    });

    const created = await dlq.call<Created>('POST', '/v1/dlq/replay', {
      ids: picked.map((r) => r.id),
      target: 'crm',
    });
    expect(created).toMatchObject({ status: 202, body: { total: 3 } });
    await waitForJob(dlq, created.body.id);
    const deliveries = await dlq.deliveries();
    // In the order the bus accepted them, not the order of the ids.
    expect(deliveries.map((d) => d.envelope.attributes.id)).toEqual(['ev-01', 'ev-05', 'ev-12']);
    expect(deliveries.map((d) => d.subject)).toEqual([
      `${dlq.prefix.toLowerCase()}.deliver.crm.${partitionFor('cust-1', 8)}`,
      `${dlq.prefix.toLowerCase()}.deliver.crm.${partitionFor('cust-2', 8)}`,
      `${dlq.prefix.toLowerCase()}.deliver.crm.unordered`,
    ]);
    expect(deliveries.every((d) => d.envelope.target === 'crm' && d.envelope.rule === 'orders')).toBe(true);
    expect(await dlq.call('GET', `/v1/replays/${created.body.id}`)).toMatchObject({
      body: { target: 'crm', selection: { ids: picked.map((r) => r.id) } },
    });
  } finally {
    await dlq.close();
  }
});

test('dry run: the count and a sample in replay order; nothing is claimed or published', async () => {
  const dlq = await startDlqFixture(bus);
  try {
    await dlq.applyRules(rules);
    const records = await seed(dlq);
    const dry = await dlq.call<{ id: string; total: number; sample: Array<{ eventId: string }> }>(
      'POST',
      '/v1/dlq/replay',
      { filter: { target: 'billing' }, dryRun: true },
    );
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, total: 14 } });
    expect(dry.body.sample.map((s) => s.eventId)).toEqual(records.slice(0, 10).map((r) => r.attributes.id));
    expect(await dlq.call('GET', `/v1/replays/${dry.body.id}`)).toMatchObject({
      body: { state: 'completed', dryRun: true, total: 14, done: 0 },
    });
    expect(await dlq.deliveries()).toHaveLength(0);
    for (const r of records) expect(await entryState(dlq.database, r.id)).toBe('dead');
  } finally {
    await dlq.close();
  }
});

test('rate limit: at most ratePerSecond entries per second of the (manual) clock', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    await dlq.applyRules(rules);
    await seed(dlq);
    const clock = new ManualClock();
    await dlq.startWorker({ clock });
    const created = await dlq.call<Created>('POST', '/v1/dlq/replay', {
      filter: { target: 'billing' },
      ratePerSecond: 4,
    });
    const progress = async () => (await getReplayJob(dlq.database.db, created.body.id))!;
    for (const expected of [4, 8, 12]) {
      // The worker has used this second's budget and waits on the clock.
      await waitFor(async () => clock.waiting === 1 && (await progress()).done === expected, {
        message: `${expected} replayed, the worker pacing`,
      });
      expect(await dlq.deliveries()).toHaveLength(expected);
      clock.advance(1_000);
    }
    await waitForJob(dlq, created.body.id);
    expect(await dlq.deliveries()).toHaveLength(14);
  } finally {
    await dlq.close();
  }
});

test('cancel: the rest goes back to the DLQ; a finished job cannot be cancelled', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    await dlq.applyRules(rules);
    const records = await seed(dlq);
    const clock = new ManualClock();
    await dlq.startWorker({ clock });
    const created = await dlq.call<Created>('POST', '/v1/dlq/replay', {
      filter: { target: 'billing' },
      ratePerSecond: 5,
    });
    await waitFor(
      async () => clock.waiting === 1 && (await getReplayJob(dlq.database.db, created.body.id))!.done === 5,
    );

    // Claimed entries are not taken by another job meanwhile.
    expect(await dlq.call('POST', '/v1/dlq/replay', { ids: [records[13]!.id] })).toMatchObject({
      status: 409,
      body: { code: 'FUZE_REPLAY_CONFLICT', jobs: [created.body.id] },
    });

    const cancelled = await dlq.call('DELETE', `/v1/replays/${created.body.id}`);
    expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled', done: 5, total: 14 } });
    clock.advance(10_000);
    const states = await Promise.all(records.map((r) => entryState(dlq.database, r.id)));
    expect(states.filter((s) => s === 'replayed')).toHaveLength(5);
    expect(states.filter((s) => s === 'dead')).toHaveLength(9);
    // The worker notices at its next page and leaves the job alone.
    await waitFor(async () => (await getReplayJob(dlq.database.db, created.body.id))?.claimedBy === null);
    expect(await dlq.deliveries()).toHaveLength(5);
    expect(await dlq.call('DELETE', `/v1/replays/${created.body.id}`)).toMatchObject({
      status: 200,
      body: { state: 'cancelled' },
    });

    // The rest can be replayed by a new job; the first five are refused (already replayed).
    const rest = await dlq.call<Created>('POST', '/v1/dlq/replay', { filter: { target: 'billing' } });
    expect(rest).toMatchObject({ status: 202, body: { total: 9, skipped: { alreadyReplayed: 5 } } });
    clock.advance(10_000);
    await waitForJob(dlq, rest.body.id);
    expect(await dlq.deliveries()).toHaveLength(14);
    expect(await dlq.call('DELETE', `/v1/replays/${rest.body.id}`)).toMatchObject({
      status: 409,
      body: { code: 'FUZE_REPLAY_JOB_FINISHED' },
    });
    expect((await listAuditLog(dlq.database.db, { action: 'dlq.replay.cancel' })).length).toBe(1);
  } finally {
    await dlq.close();
  }
});

test('a job survives its worker: another instance resumes it where it stopped, nothing twice', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    await dlq.applyRules(rules);
    await seed(dlq);
    const clock = new ManualClock();
    const first = await dlq.startWorker({ clock });
    const created = await dlq.call<Created>('POST', '/v1/dlq/replay', {
      filter: { target: 'billing' },
      ratePerSecond: 3,
    });
    await waitFor(
      async () => clock.waiting === 1 && (await getReplayJob(dlq.database.db, created.body.id))!.done === 3,
    );
    await first.stop(); // as at an admin restart: the job is given back, still running
    expect(await getReplayJob(dlq.database.db, created.body.id)).toMatchObject({
      state: 'running',
      claimedBy: null,
      done: 3,
    });

    await dlq.startWorker(); // no rate-limit clock games: the system clock
    const job = await waitForJob(dlq, created.body.id);
    expect(job).toMatchObject({ done: 14, failed: 0 });
    const deliveries = await dlq.deliveries();
    expect(deliveries).toHaveLength(14);
    expect(new Set(deliveries.map((d) => d.msgId)).size).toBe(14);
  } finally {
    await dlq.close();
  }
});

test('a job whose worker died (no release) is taken over once its lease runs out', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    await dlq.applyRules(rules);
    await seed(dlq);
    const created = await dlq.call<Created>('POST', '/v1/dlq/replay', { filter: { target: 'billing' } });
    // A worker that claims the job and is never heard of again.
    expect(await claimReplayJob(dlq.database.db, 'crashed-worker', 300)).toMatchObject({
      id: created.body.id,
    });
    await dlq.startWorker();
    const job = await waitForJob(dlq, created.body.id);
    expect(job).toMatchObject({ done: 14, claimedBy: null });
    expect(await dlq.deliveries()).toHaveLength(14);
  } finally {
    await dlq.close();
  }
});

test('a job whose replay target disappears fails as a whole; its entries go back to the DLQ', async () => {
  const dlq = await startDlqFixture(bus, { worker: false });
  try {
    await dlq.applyRules(rules);
    const records = await seed(dlq);
    const created = await dlq.call<Created>('POST', '/v1/dlq/replay', {
      ids: [records[0]!.id, records[1]!.id],
      target: 'crm',
    });
    expect(created.status).toBe(202);
    await dlq.database.db.execute(`delete from rules where name = 'crm-sync'`);
    await dlq.startWorker();
    const job = await waitForJob(dlq, created.body.id, 'failed');
    expect(job).toMatchObject({ done: 0, error: 'the target crm is no longer defined by any rule' });
    expect(await getDeadLetter(dlq.database.db, records[0]!.id)).toMatchObject({
      state: 'dead',
      lastReplayError: 'the target crm is no longer defined by any rule',
    });
    expect(await dlq.deliveries()).toHaveLength(0);
  } finally {
    await dlq.close();
  }
});

test('route-stage dead letters are rendered again by the rule as it is now, or fail with the reason', async () => {
  const dlq = await startDlqFixture(bus);
  try {
    const record = deadLetterRecord({
      eventId: 'r-1',
      stage: 'route',
      rule: 'orders',
      key: 'cust-9',
      errorClass: 'InputTransformError',
      message: 'the transformer failed',
      data: { orderId: 'o-77', customer: 'cust-9' },
    });
    await dlq.deadLetter(record);
    await dlq.indexed(1);

    // The rule is gone: nothing can render it.
    const first = await dlq.call<Created>('POST', '/v1/dlq/replay', { ids: [record.id] });
    const failedJob = await waitForJob(dlq, first.body.id);
    expect(failedJob).toMatchObject({ total: 1, done: 0, failed: 1 });
    expect(failedJob.failures[0]).toMatchObject({
      id: record.id,
      reason: expect.stringMatching(/no longer exists/),
    });
    expect(await getDeadLetter(dlq.database.db, record.id)).toMatchObject({
      state: 'dead',
      lastReplayError: expect.stringMatching(/no longer exists/),
    });

    await dlq.applyRules(
      rules.replace(
        'ordering: { partitionKey: "$.data.customer", partitions: 4 }',
        `ordering: { partitionKey: "$.data.customer", partitions: 4 }
      input: { paths: { id: "$.data.orderId" }, template: '{"order": <id>, "rule": <fuze.rule-name>}' }`,
      ),
    );
    const second = await dlq.call<Created>('POST', '/v1/dlq/replay', { ids: [record.id] });
    await waitForJob(dlq, second.body.id);
    const [delivery] = await dlq.deliveries();
    expect(JSON.parse(Buffer.from(delivery!.envelope.body).toString())).toEqual({
      order: 'o-77',
      rule: 'orders',
    });
    expect(delivery!.envelope).toMatchObject({
      contentType: 'application/json',
      attributes: { id: 'r-1' },
      replay: { jobId: second.body.id, deadLetterId: record.id },
    });
    expect(delivery!.subject).toBe(
      `${dlq.prefix.toLowerCase()}.deliver.billing.${partitionFor('cust-9', 4)}`,
    );
    expect(await entryState(dlq.database, record.id)).toBe('replayed');
  } finally {
    await dlq.close();
  }
});

test('plan-stage dead letters go back to their bus as the event, once per job; never to a target', async () => {
  const dlq = await startDlqFixture(bus);
  try {
    const record = deadLetterRecord({
      eventId: 'p-1',
      stage: 'plan',
      rule: '',
      target: routerDeadLetterTarget,
      errorClass: 'TypeError',
      message: 'the planner failed',
      data: { orderId: 'o-88', customer: 'cust-3' },
    });
    await dlq.deadLetter(record);
    await dlq.indexed(1);
    await dlq.applyRules(rules);

    const toTarget = await dlq.call<Created>('POST', '/v1/dlq/replay', {
      ids: [record.id],
      target: 'billing',
    });
    const refused = await waitForJob(dlq, toTarget.body.id);
    expect(refused.failures[0]).toMatchObject({
      reason: expect.stringMatching(/plan stage.*without a target/),
    });

    const first = await dlq.call<Created>('POST', '/v1/dlq/replay', { ids: [record.id] });
    await waitForJob(dlq, first.body.id);
    const second = await dlq.call<Created>('POST', '/v1/dlq/replay', { ids: [record.id], force: true });
    await waitForJob(dlq, second.body.id);
    const events = await readStream(bus.nc, dlq.streams.events);
    expect(events).toHaveLength(2); // one per job: the event's own Nats-Msg-Id would have deduped the second
    for (const message of events) {
      expect(message.subject).toMatch(
        new RegExp(`^${dlq.prefix.toLowerCase()}\\.events\\.default\\.\\d+\\.com\\.shop\\.order\\.placed$`),
      );
      expect(message.json()).toEqual(JSON.parse(Buffer.from(record.body, 'base64').toString()));
    }
    expect(await dlq.deliveries()).toHaveLength(0);
    expect(await entryState(dlq.database, record.id)).toBe('replayed');
  } finally {
    await dlq.close();
  }
});

test('a replayed delivery that fails again is a new dead letter linked to the one it replayed', async () => {
  const dlq = await startDlqFixture(bus);
  try {
    await dlq.applyRules(rules);
    const original = deadLetterRecord({ eventId: 'x-1', key: 'cust-1' });
    await dlq.deadLetter(original);
    await dlq.indexed(1);
    const created = await dlq.call<Created>('POST', '/v1/dlq/replay', { ids: [original.id] });
    await waitForJob(dlq, created.body.id);

    // What the dispatcher writes when the replayed delivery is given up on again.
    const again = {
      ...deadLetterRecord({ eventId: 'x-1', key: 'cust-1', message: 'still 503' }),
      id: deadLetterId({ source: 'urn:shop', id: 'x-1' }, 'orders', 'billing', created.body.id),
      replay: { jobId: created.body.id, deadLetterId: original.id },
    };
    await dlq.deadLetter(again);
    await dlq.indexed(2);
    const shown = await dlq.call('GET', `/v1/dlq/${original.id}`);
    expect(shown.body).toMatchObject({ state: 'replayed', replayFailures: [again.id] });
    const failure = await dlq.call('GET', `/v1/dlq/${again.id}`);
    expect(failure.body).toMatchObject({
      state: 'dead',
      replayOf: { deadLetterId: original.id, jobId: created.body.id },
      record: { replay: { jobId: created.body.id, deadLetterId: original.id } },
    });
    // The new one is replayable (the original stays replayed): a filter takes only it.
    const next = await dlq.call<Created>('POST', '/v1/dlq/replay', { filter: { target: 'billing' } });
    expect(next.body).toMatchObject({ total: 1, skipped: { alreadyReplayed: 1 } });
    await waitForJob(dlq, next.body.id);
    const deliveries = await dlq.deliveries();
    expect(deliveries.map((d) => d.envelope.replay)).toEqual([
      { jobId: created.body.id, deadLetterId: original.id },
      { jobId: next.body.id, deadLetterId: again.id },
    ]);
  } finally {
    await dlq.close();
  }
});
