import { type DeadLetterRecord, decodeDeadLetterMessage, FuzeError, streamNames } from '@fuze/core';
import {
  type FuzeDb,
  getDeadLetter,
  isEmptyDeadLetterFilter,
  listDeadLetters,
  listReplayFailuresOf,
  purgeDeadLetters,
} from '@fuze/db';
import { requireScope } from '@fuze/http';
import type { FastifyInstance } from 'fastify';
import { pageQueryProperties, pageSchema } from '../page-schemas.js';
import { deadLetterSchema, type FilterQuery, filterProperties, problem } from './dlq-schemas.js';
import { deadLetterView, decodedBody, filterOf } from './dlq-views.js';
import { isNoMessageFound, type JetStreamManager } from './jetstream.js';

export interface DlqRoutesOptions {
  db: FuzeDb;
  jsm: JetStreamManager;
  /** FUZE_STREAM_PREFIX (not `prefix`: fastify reads that as a route prefix). */
  streamPrefix: string;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/**
 * The dead-letter index: list with filters and cursor pagination, show one with its full record
 * (read from the DLQ stream), purge by filter (audited).
 */
export async function dlqRoutes(app: FastifyInstance, options: DlqRoutesOptions): Promise<void> {
  const dlqStream = streamNames(options.streamPrefix).dlq;

  app.get<{ Querystring: FilterQuery & { cursor?: string; limit?: number } }>(
    '/v1/dlq',
    {
      preHandler: requireScope('dlq:read'),
      schema: {
        tags: ['dlq'],
        summary: 'List dead letters, newest first, a page at a time',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...filterProperties,
            ...pageQueryProperties,
          },
        },
        response: {
          200: pageSchema(deadLetterSchema),
          400: problem,
        },
      },
    },
    async (request) => {
      const { cursor, limit, ...query } = request.query;
      const page = await listDeadLetters(options.db, filterOf(query), { cursor, limit });
      return {
        items: page.items.map(deadLetterView),
        ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/dlq/:id',
    {
      preHandler: requireScope('dlq:read'),
      schema: {
        tags: ['dlq'],
        summary: 'Show a dead letter: its index entry, the full record and the decoded body',
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: {
              ...deadLetterSchema.properties,
              record: {
                type: ['object', 'null'],
                additionalProperties: true,
                description:
                  'the dead-letter record as stored in the DLQ stream (event attributes, base64 body, failure); null once purged or expired',
              },
              body: {
                type: ['object', 'null'],
                description: 'the body decoded for display',
                properties: {
                  contentType: { type: 'string' },
                  encoding: { type: 'string', enum: ['json', 'text', 'base64'] },
                  value: {},
                },
              },
              replayFailures: {
                type: 'array',
                description: 'dead letters produced by failed replays of this one',
                items: { type: 'string' },
              },
            },
          },
          404: problem,
        },
      },
    },
    async (request) => {
      const row = await getDeadLetter(options.db, request.params.id);
      if (!row) throw deadLetterNotFound(request.params.id);
      const stored = await options.jsm.streams.getMessage(dlqStream, { seq: row.dlqStreamSeq });
      const record = stored ? tryParse(stored.data) : undefined;
      const own = record?.id === row.id ? record : undefined;
      const failures = await listReplayFailuresOf(options.db, row.id);
      return {
        ...deadLetterView(row),
        record: own ?? null,
        body: own ? decodedBody(own) : null,
        replayFailures: failures.map((f) => f.id),
      };
    },
  );

  app.delete<{ Querystring: FilterQuery & { all?: boolean } }>(
    '/v1/dlq',
    {
      preHandler: requireScope('dlq:write'),
      schema: {
        tags: ['dlq'],
        summary: 'Purge the dead letters a filter matches (audited); a filter, or all=true, is required',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...filterProperties,
            all: { type: 'boolean', description: 'purge every dead letter (no filter)' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              purged: { type: 'integer', description: 'entries marked purged' },
              skipped: { type: 'integer', description: 'matched but left alone: being replayed' },
              deletedFromStream: { type: 'integer', description: 'records deleted from the DLQ stream' },
              auditId: { type: 'integer' },
            },
          },
          400: problem,
        },
      },
    },
    async (request) => {
      const { all, ...query } = request.query;
      const filter = filterOf(query);
      if (isEmptyDeadLetterFilter(filter) && all !== true) {
        throw new FuzeError(
          'FUZE_FILTER_REQUIRED',
          'a purge needs a filter (target, rule, bus, type, source, from, to, error, state), or all=true',
        );
      }
      const principal = request.principal?.id ?? 'anonymous';
      const result = await purgeDeadLetters(options.db, filter, principal, { all: all === true });
      const deleted = await deleteFromStream(
        options.jsm,
        dlqStream,
        result.purged.map((p) => p.dlqStreamSeq),
      );
      if (deleted.failed > 0) {
        request.log.warn(
          { failed: deleted.failed, purged: result.purged.length },
          'purged dead letters whose records could not be deleted from the DLQ stream; they expire with its max age',
        );
      }
      return {
        purged: result.purged.length,
        skipped: result.skipped,
        deletedFromStream: deleted.deleted,
        auditId: result.auditId,
      };
    },
  );
}

export function deadLetterNotFound(id: string): FuzeError {
  return new FuzeError('FUZE_DEAD_LETTER_NOT_FOUND', `no dead letter has the id ${id}`, { details: { id } });
}

function tryParse(data: Uint8Array): DeadLetterRecord | undefined {
  try {
    return decodeDeadLetterMessage(data);
  } catch {
    return undefined;
  }
}

/** Deletes records by sequence, a few at a time; one already gone counts as deleted. */
async function deleteFromStream(
  jsm: JetStreamManager,
  stream: string,
  seqs: number[],
): Promise<{ deleted: number; failed: number }> {
  let deleted = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < seqs.length) {
      const seq = seqs[next++]!;
      try {
        await jsm.streams.deleteMessage(stream, seq, false);
        deleted++;
      } catch (err) {
        if (isNoMessageFound(err)) deleted++;
        else failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, seqs.length) }, worker));
  return { deleted, failed };
}
