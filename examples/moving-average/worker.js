// The moving average of each symbol's last 10 prices. Run it twice: the two processes share
// the symbols; kill one and the other takes its symbols with their windows (restored from NATS),
// so every average is over the true last 10 prices, never over a window that lost ticks.
import { createProcessor } from '@fuze/sdk';

const worker = process.env.WORKER ?? String(process.pid);
const processor = await createProcessor({
  target: 'averages',
  natsUrl: process.env.FUZE_NATS_URL ?? 'nats://127.0.0.1:4222',
  onAssigned: (partition) => console.log(JSON.stringify({ worker, assigned: partition })),
  onRevoked: (partition) => console.log(JSON.stringify({ worker, revoked: partition })),
}).handle((event, ctx) => {
  // ctx.state: this symbol's window, committed with the event before its ack.
  const prices = [...(ctx.state.get() ?? []), event.data.price].slice(-10);
  ctx.state.set(prices);
  const average = prices.reduce((sum, price) => sum + price, 0) / prices.length;
  console.log(JSON.stringify({ worker, symbol: ctx.key, tick: event.data.n, average, over: prices.length }));
});

process.on('SIGTERM', () => processor.close().then(() => process.exit(0)));
console.log(JSON.stringify({ worker, ready: true }));
