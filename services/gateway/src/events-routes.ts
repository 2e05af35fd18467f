import { busNamePattern, defaultBus, FuzeError } from '@fuze/core';
import { requireScope, sendProblem } from '@fuze/http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EventIngestor } from './ingest.js';
import { readHttpEvent } from './read-http-event.js';

export interface EventsRoutesOptions {
  ingestor: EventIngestor;
  maxEventBytes: number;
  maxBatchEvents: number;
}

/**
 * `POST /v1/events` (default bus) and `POST /v1/buses/:bus/events`: CloudEvents in structured,
 * binary or batch mode. 202 once JetStream stored every accepted event.
 */
export async function eventsRoutes(app: FastifyInstance, options: EventsRoutesOptions): Promise<void> {
  // Every body arrives as bytes: the mode is decided from headers, and sizes are ours to judge.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  // Room for a full batch; single events are held to FUZE_MAX_EVENT_BYTES per event below.
  const bodyLimit = Math.min(options.maxBatchEvents * options.maxEventBytes, 16 * 1024 * 1024);
  const preHandler = requireScope('events:publish');
  const handler = (request: FastifyRequest<{ Params: { bus?: string } }>, reply: FastifyReply) =>
    ingestRequest(request, reply, options);
  app.post<{ Params: { bus?: string } }>('/v1/events', { bodyLimit, preHandler }, handler);
  app.post<{ Params: { bus?: string } }>('/v1/buses/:bus/events', { bodyLimit, preHandler }, handler);
}

async function ingestRequest(
  request: FastifyRequest<{ Params: { bus?: string } }>,
  reply: FastifyReply,
  options: EventsRoutesOptions,
): Promise<FastifyReply> {
  const bus = request.params.bus ?? defaultBus;
  if (!busNamePattern.test(bus)) {
    return sendProblem(
      reply,
      new FuzeError('FUZE_NOT_FOUND', `"${bus}" is not a bus name: use [a-z0-9-], at most 64 characters`),
    );
  }
  const body = readHttpEvent(request.headers, request.body as Buffer | undefined);
  if (body.mode === 'batch') {
    if (body.events.length > options.maxBatchEvents) {
      throw new FuzeError(
        'FUZE_BATCH_TOO_LARGE',
        `the batch has ${body.events.length} events; send at most ${options.maxBatchEvents} per request (FUZE_MAX_BATCH_EVENTS)`,
      );
    }
    const results = await Promise.all(body.events.map((event) => options.ingestor.ingestEntry(bus, event)));
    const failedCount = results.filter((r) => r.status === 'rejected' || r.status === 'failed').length;
    // 207 tells a client that looks only at the status that some entries need attention.
    return reply.code(failedCount === 0 ? 202 : 207).send({ failedCount, results });
  }
  if (((request.body as Buffer | undefined)?.length ?? 0) > options.maxEventBytes) {
    throw new FuzeError(
      'FUZE_EVENT_TOO_LARGE',
      `the request body is over ${options.maxEventBytes} bytes (FUZE_MAX_EVENT_BYTES); batch mode allows that much per event`,
    );
  }
  const result = await options.ingestor.ingest(bus, body.event);
  return reply.code(202).send({ id: result.id, status: result.duplicate ? 'duplicate' : 'accepted' });
}
