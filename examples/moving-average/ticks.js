// Publishes ticks FROM + 1 .. FROM + TICKS for each of SYMBOLS symbols (tick n of symbol s has
// price s * 100 + n), one round of all symbols at a time.
import { createPublisher } from '@fuze/sdk';

const symbols = Array.from({ length: Number(process.env.SYMBOLS ?? 6) }, (_, i) => `SYM${i}`);
const from = Number(process.env.FROM ?? 0);
const ticks = Number(process.env.TICKS ?? 20);
const publisher = createPublisher({ natsUrl: process.env.FUZE_NATS_URL ?? 'nats://127.0.0.1:4222' });
for (let n = from + 1; n <= from + ticks; n++)
  await Promise.all(
    symbols.map((symbol, s) =>
      publisher.publish({
        type: 'com.example.tick',
        source: '/examples/moving-average',
        id: `${symbol}-${n}-${process.env.RUN ?? process.pid}`,
        data: { symbol, n, price: s * 100 + n },
      }),
    ),
  );
await publisher.close();
console.log(JSON.stringify({ published: symbols.length * ticks }));
