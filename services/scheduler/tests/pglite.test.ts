import { defaultRouting, encodeEventMessage } from '@fuze/core';
import { type Database, getTimer, openDatabase } from '@fuze/db';
import { waitFor } from '@fuze/test/harness';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  type BusFixture,
  eventCount,
  freshStreams,
  put,
  readEvents,
  runScheduler,
  startBus,
  timerEvent,
} from './fixture.js';

let bus: BusFixture;
let database: Database;

beforeAll(async () => {
  bus = await startBus();
  database = await openDatabase({}); // embedded PGlite, in memory
});
afterAll(async () => {
  await database?.close();
  await bus?.close();
});

test('with embedded PGlite, one scheduler fires timers and delivers held events', async () => {
  expect(database.driver).toBe('pglite');
  const streams = await freshStreams(bus);
  const scheduler = await runScheduler(bus, database, streams);
  try {
    await put(database, 'laptop:one-shot', { event: timerEvent, delay: '200ms' });
    await put(database, 'laptop:rate', { event: timerEvent, rate: '1s' });
    await bus.publisher.publish(
      encodeEventMessage(
        streams.prefix,
        'default',
        {
          specversion: '1.0',
          id: 'held-1',
          source: '/tests/pglite',
          type: 'com.example.held',
          delay: '300ms',
        },
        defaultRouting,
      ),
    );
    await waitFor(async () => (await eventCount(bus, streams.streams.events)) >= 4, {
      message: 'the one-shot, two rate firings and the held event',
    });
    const ids = (await readEvents(bus, streams.streams.events)).map((e) => e.event.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^laptop:one-shot@/),
        expect.stringMatching(/^laptop:rate@/),
        'held-1',
      ]),
    );
    expect(new Set(ids).size).toBe(ids.length);
    await waitFor(async () => (await getTimer(database.db, 'laptop:one-shot'))?.state === 'completed');
  } finally {
    await scheduler.stop();
  }
});
