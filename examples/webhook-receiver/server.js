// An HTTP target for Fuze: verifies each request's Standard Webhooks signature (webhook-id,
// webhook-timestamp, webhook-signature) with the `standardwebhooks` package before it trusts the
// body, and deduplicates on webhook-id (the same on every retry of one delivery).
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const secret = process.env.WEBHOOK_SECRET; // the same whsec_... value Fuze signs with
if (!secret) {
  console.error('WEBHOOK_SECRET is not set: give the receiver the secret Fuze signs with (whsec_...)');
  process.exit(1);
}
const webhook = new Webhook(secret);
const seen = new Set();
const port = Number(process.env.PORT ?? 3000);

const server = createServer(async (request, response) => {
  if (request.method !== 'POST' || request.url !== '/hooks') {
    response.writeHead(404).end();
    return;
  }
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const body = Buffer.concat(chunks).toString('utf8');
  let event;
  try {
    // Throws unless the signature is valid for this body and the timestamp is recent (5 min).
    event = webhook.verify(body, request.headers);
  } catch (error) {
    console.log(JSON.stringify({ rejected: request.headers['webhook-id'] ?? null, reason: error.message }));
    response.writeHead(401).end();
    return;
  }
  const id = request.headers['webhook-id'];
  if (!seen.has(id)) {
    seen.add(id);
    console.log(JSON.stringify({ verified: id, type: event.type, orderId: event.data?.orderId }));
  }
  response.writeHead(204).end();
});
server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ listening: port })));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
