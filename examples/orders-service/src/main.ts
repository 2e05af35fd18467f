// Publishes orders for a few customers, and fulfils them from the `fulfilment` target.
// Each customer's orders must arrive in the order they were placed (the rule's partition key);
// different customers are processed in parallel.
import { createConsumer, createPublisher, NonRetryableError } from '@fuze/sdk';

interface Order {
  orderId: string;
  customerId: string;
  sequence: number;
  total: number;
}

const natsUrl = process.env.FUZE_NATS_URL ?? 'nats://127.0.0.1:4222';
const customers = ['alice', 'bob', 'carol'];
const ordersPerCustomer = Number(process.env.ORDERS_PER_CUSTOMER ?? 5);
const runId = Date.now().toString(36); // ids unique per run: the bus deduplicates on source+id

const lastSequence = new Map<string, number>();
let fulfilled = 0;
let done: () => void = () => {};
const allFulfilled = new Promise<void>((resolve) => {
  done = resolve;
});

const consumer = await createConsumer({ target: 'fulfilment', natsUrl }).handle<Order>(async (event) => {
  const order = event.data;
  if (!order?.orderId.startsWith(runId)) return; // an earlier run's order: nothing to do
  const previous = lastSequence.get(order.customerId) ?? 0;
  if (order.sequence <= previous) return; // delivered again (at-least-once): already fulfilled
  if (order.sequence !== previous + 1)
    throw new NonRetryableError(
      `order ${order.orderId} arrived before order ${previous + 1} of ${order.customerId}`,
    );
  lastSequence.set(order.customerId, order.sequence);
  fulfilled += 1;
  if (fulfilled === customers.length * ordersPerCustomer) done();
});

const publisher = createPublisher({ natsUrl });
for (let sequence = 1; sequence <= ordersPerCustomer; sequence++) {
  await Promise.all(
    customers.map((customerId) =>
      publisher.publish<Order>({
        id: `${runId}-${customerId}-${sequence}`,
        type: 'com.shop.order.placed',
        source: '/examples/orders-service',
        data: { orderId: `${runId}-${customerId}-${sequence}`, customerId, sequence, total: 10 * sequence },
      }),
    ),
  );
}
console.log(`published ${customers.length * ordersPerCustomer} orders`);

const timeout = setTimeout(
  () => {
    console.error(`timed out: fulfilled ${fulfilled} of ${customers.length * ordersPerCustomer}`);
    process.exit(1);
  },
  Number(process.env.EXAMPLE_TIMEOUT_MS ?? 60_000),
);
await allFulfilled;
clearTimeout(timeout);
console.log(`fulfilled ${fulfilled} orders, each customer's in the order placed`);
await publisher.close();
await consumer.close();
