import { connectNats } from '@fuze/bus';
import { createLogger } from '@fuze/core';
import { createPublisher, type FuzeError } from '@fuze/sdk';
import { provisionStreams, startNatsServer } from '@fuze/test/harness';
import { describe, expect, it } from 'vitest';
import { connectTo, readEvents } from './stream-fixture.js';

const total = 5_000;
const concurrency = 200;
/** The server is killed once this many publishes resolved. */
const killAfter = 1_500;

describe('publishing through a NATS crash', () => {
  it('loses no acknowledged event and stores each once', { timeout: 180_000 }, async () => {
    await using nats = await startNatsServer();
    const admin = await connectTo(nats.url);
    const prefix = await provisionStreams(admin);
    await admin.close();
    // Our own connection (same settings as the SDK's), so its message count shows the re-sends.
    const connection = await connectNats({
      url: nats.url,
      name: 'fault-test',
      logger: createLogger('silent'),
    });
    const publisher = createPublisher({ connection, streamPrefix: prefix, giveUpAfterMs: 60_000 });

    const acked = new Map<string, 'accepted' | 'duplicate'>();
    const failed = new Map<string, FuzeError>();
    let crash: Promise<void> | undefined;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const id = `fault-${next++}`;
        try {
          const { status } = await publisher.publish({ id, source: '/fault', type: 'com.example.fault' });
          acked.set(id, status);
        } catch (err) {
          failed.set(id, err as FuzeError);
        }
        if (acked.size === killAfter && !crash) {
          crash = nats.kill().then(() => nats.restart());
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await crash;
    const sent = connection.stats().outMsgs;
    await publisher.close();
    await connection.close();

    const reader = await connectTo(nats.url);
    const stored = await readEvents(reader, prefix);
    await reader.close();
    const copies = new Map<string, number>();
    for (const { event } of stored) copies.set(event.id, (copies.get(event.id) ?? 0) + 1);

    const duplicates = [...acked.values()].filter((s) => s === 'duplicate').length;
    console.info(
      `NATS crash: ${acked.size} acked (${duplicates} answered duplicate: stored by an attempt whose ack was lost), ` +
        `${failed.size} failed, ${sent - total} re-sent, ${stored.length} stored`,
    );
    expect(crash).toBeDefined();
    expect([...acked.keys()].filter((id) => copies.get(id) !== 1)).toEqual([]);
    expect([...copies.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(acked.size + failed.size).toBe(total);
  });
});
