import type { ServiceModule } from '@fuze/runtime';
import { buildAdminApp } from './build-admin-app.js';
import { startDeadLetterServices } from './dlq/index.js';

/** The admin API: control plane over HTTP (OpenAPI at /docs). */
export const adminModule: ServiceModule = {
  name: 'admin',
  async start(context) {
    const app = buildAdminApp({
      ...context,
      db: context.database.db,
      prefix: context.config.streams.prefix,
      requestTimeoutMs: context.config.http.requestTimeoutMs,
      traceUrl: context.config.traceUrl,
    });
    const address = await app.listen({ host: context.config.http.host, port: context.config.http.adminPort });
    context.logger.info({ address }, 'admin API listening');
    const deadLetters = await startDeadLetterServices(context);
    return {
      async stop() {
        await app.close();
        await deadLetters.stop();
      },
    };
  },
};
