// A child process serving HTTP for the ingest bench, so the server and the load generator run
// on separate event loops: `gateway <natsUrl> <prefix>` (the real gateway app) or `fastify` (a
// bare POST / route). It sends its address to the parent, answers 'cpu' with its CPU time used,
// exits on 'stop', and profiles itself between { profile: 'start' } and { profile: 'stop', file }.
import { connectNats, JetStreamPublisher } from '@fuze/bus';
import { createLogger, defaultRouting, loadConfig } from '@fuze/core';
import { openDatabase } from '@fuze/db';
import { buildGatewayApp, EventSchemaRegistry } from '@fuze/gateway';
import { createTokenAuthenticator } from '@fuze/http';
import Fastify, { type FastifyInstance } from 'fastify';
import { startProfile } from './profiler.js';

const [kind, natsUrl, prefix] = process.argv.slice(2);

async function startGateway(): Promise<{ app: FastifyInstance; stop(): Promise<void> }> {
  const config = loadConfig({
    FUZE_NATS_URL: natsUrl,
    FUZE_STREAM_PREFIX: prefix,
    FUZE_SCHEMAS_DIR: '/nonexistent/fuze-bench-schemas',
  });
  const logger = createLogger('warn', { component: 'bench-gateway' });
  const nats = await connectNats({ url: config.nats.url, name: 'fuze-bench-gateway', logger });
  const publisher = new JetStreamPublisher(nats);
  const database = await openDatabase({}); // in-memory PGlite
  const schemas = new EventSchemaRegistry({ dir: config.gateway.schemasDir, db: database.db, logger });
  await schemas.start();
  const app = buildGatewayApp({
    config,
    logger,
    publisher,
    routing: defaultRouting,
    schemas,
    authenticator: createTokenAuthenticator({ adminToken: undefined }),
    readiness: async () => ({ nats: true, postgres: true }),
  });
  return {
    app,
    async stop() {
      await app.close();
      schemas.stop();
      await publisher.close();
      await nats.close();
      await database.close();
    },
  };
}

function startBareFastify(): { app: FastifyInstance; stop(): Promise<void> } {
  const app = Fastify();
  // Same bytes as the gateway receives, read as a buffer, not parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/', async (_request, reply) => reply.code(202).send({ status: 'accepted' }));
  return { app, stop: () => app.close() };
}

const server = kind === 'gateway' ? await startGateway() : startBareFastify();
const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ address });
let profiling: Awaited<ReturnType<typeof startProfile>> | undefined;
type Command = 'stop' | 'cpu' | { profile: 'start' } | { profile: 'stop'; file: string };
process.on('message', async (message: Command) => {
  if (message === 'stop') {
    await server.stop();
    process.exit(0);
  } else if (message === 'cpu') {
    process.send?.(process.cpuUsage());
  } else if (message.profile === 'start') {
    profiling = await startProfile();
    process.send?.('profiling');
  } else {
    await profiling?.stop(message.file);
    process.send?.('profiled');
  }
});
