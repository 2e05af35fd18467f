import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JetStreamPublisher } from '@fuze/bus';
import { createLogger } from '@fuze/core';
import { applyRuleChanges, type Database } from '@fuze/db';
import { parseRuleDocuments } from '@fuze/rules';

export const silent = createLogger('silent');
/** Stores the rules of a YAML text (one or more `kind: Rule` documents), as `fuze apply` would. */
export async function applyRulesYaml(database: Database, yaml: string): Promise<void> {
  const { documents, errors } = parseRuleDocuments(yaml, 'test.yaml');
  if (errors.length > 0) throw new Error(`bad test rules: ${JSON.stringify(errors)}`);
  await applyRuleChanges(database.db, {
    upserts: documents.flatMap((document) =>
      document.kind !== 'Rule'
        ? []
        : [
            {
              bus: document.bus,
              name: document.name,
              enabled: document.enabled,
              document: JSON.parse(JSON.stringify(document)) as Record<string, unknown>,
            },
          ],
    ),
    deletes: [],
  });
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  at: number;
}

export type Responder = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

/** A real webhook receiver on 127.0.0.1: records every request and answers with `respond`. */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  respond: Responder = (_req, res) => {
    res.writeHead(204).end();
  };
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
          at: Date.now(),
        };
        receiver!.requests.push(request);
        void Promise.resolve(receiver!.respond(request, res)).catch(() => res.destroy());
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}`);
    return receiver;
  }

  /** Requests for `path`, in arrival order. */
  on(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.url === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export { JetStreamPublisher };
