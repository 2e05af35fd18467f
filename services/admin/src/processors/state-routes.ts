import {
  bindStateBucket,
  decodeStoredState,
  parseStateKey,
  stateKey,
  stateKeyInAnyPartition,
} from '@fuze/bus';
import { FuzeError } from '@fuze/core';
import { requireScope } from '@fuze/http';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';

export interface StateRoutesOptions {
  nats: NatsConnection;
  streamPrefix: string;
}

const problem = { $ref: 'problem#' };
const processorParam = {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9-]{0,63}$',
  description: "The processor: its `consumer` target's name",
} as const;
const keyParam = { type: 'string', minLength: 1, maxLength: 1024, description: 'The partition key' } as const;

const stateEntry = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    partition: { type: 'integer' },
    seq: { type: 'integer', description: 'delivery stream sequence of the last event applied to the key' },
    revision: { type: 'integer', description: 'the KV revision of the stored value' },
    bytes: { type: 'integer', description: 'bytes of JSON of the state' },
    state: { description: 'the state, as the handler set it; absent once a handler deleted it' },
    timers: {
      type: 'object',
      additionalProperties: { type: 'string', format: 'date-time' },
      description: "the key's timers: name → when due",
    },
  },
} as const;

/**
 * Operators' view of stateful processors' per-key state (ADR 0008): read one key's state, list
 * the keys, delete a key's state. The state lives in the processor's KV bucket in NATS.
 */
export async function stateRoutes(app: FastifyInstance, options: StateRoutesOptions): Promise<void> {
  const bucketOf = (processor: string): Promise<KV> =>
    bindStateBucket(options.nats, options.streamPrefix, processor);

  app.get<{ Params: { processor: string; key: string } }>(
    '/v1/processors/:processor/state/:key',
    {
      preHandler: requireScope('state:read'),
      schema: {
        tags: ['processors'],
        summary: "Read one partition key's state",
        params: {
          type: 'object',
          required: ['processor', 'key'],
          properties: { processor: processorParam, key: keyParam },
        },
        response: { 200: stateEntry, 404: problem },
      },
    },
    async (request) => {
      const { processor, key } = request.params;
      const kv = await bucketOf(processor);
      const found = await findKey(kv, key);
      if (!found) throw noState(processor, key);
      return found;
    },
  );

  app.get<{ Params: { processor: string }; Querystring: { cursor?: string; limit?: number } }>(
    '/v1/processors/:processor/state',
    {
      preHandler: requireScope('state:read'),
      schema: {
        tags: ['processors'],
        summary: 'List the keys that hold state, in key order, a page at a time (without the states)',
        params: { type: 'object', required: ['processor'], properties: { processor: processorParam } },
        querystring: {
          type: 'object',
          properties: {
            cursor: { type: 'string', description: "the previous page's nextCursor" },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { key: { type: 'string' }, partition: { type: 'integer' } },
                },
              },
              nextCursor: {
                type: 'string',
                description: 'pass as `cursor` for the next page; absent on the last',
              },
            },
          },
          404: problem,
        },
      },
    },
    async (request) => {
      const { cursor: after, limit = 100 } = request.query;
      const kv = await bucketOf(request.params.processor);
      const all: Array<{ key: string; partition: number }> = [];
      for await (const bucketKey of await kv.keys()) {
        const parsed = parseStateKey(bucketKey);
        if (parsed && (after === undefined || parsed.key > after)) all.push(parsed);
      }
      all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const items = all.slice(0, limit);
      const last = items.at(-1);
      return all.length > limit && last ? { items, nextCursor: last.key } : { items };
    },
  );

  app.delete<{ Params: { processor: string; key: string } }>(
    '/v1/processors/:processor/state/:key',
    {
      preHandler: requireScope('state:write'),
      schema: {
        tags: ['processors'],
        summary:
          "Delete a key's state: the processor that holds the key reads the deletion at its next commit of it and handles that event on an empty state",
        params: {
          type: 'object',
          required: ['processor', 'key'],
          properties: { processor: processorParam, key: keyParam },
        },
        response: { 204: { type: 'null' }, 404: problem },
      },
    },
    async (request, reply) => {
      const { processor, key } = request.params;
      const kv = await bucketOf(processor);
      const found = await findKey(kv, key);
      if (!found) throw noState(processor, key);
      await kv.delete(stateKey(found.partition, key));
      return reply.code(204).send();
    },
  );
}

/** The key's stored state, in whichever partition holds it (the partition count may have changed). */
async function findKey(kv: KV, key: string) {
  for await (const bucketKey of await kv.keys(stateKeyInAnyPartition(key))) {
    const entry = await kv.get(bucketKey);
    const partition = parseStateKey(bucketKey)?.partition;
    if (entry?.operation !== 'PUT' || partition === undefined) continue;
    const stored = decodeStoredState(entry.string());
    return {
      key,
      partition,
      seq: stored.seq,
      revision: entry.revision,
      bytes: stored.state?.length ?? 0,
      ...(stored.state === undefined ? {} : { state: JSON.parse(stored.state) as unknown }),
      ...(stored.timers
        ? {
            timers: Object.fromEntries(
              Object.entries(stored.timers).map(([name, at]) => [name, new Date(at).toISOString()]),
            ),
          }
        : {}),
    };
  }
  return undefined;
}

function noState(processor: string, key: string): FuzeError {
  return new FuzeError(
    'FUZE_NOT_FOUND',
    `processor "${processor}" holds no state for key "${key}": check the key (it is the event's partition key)`,
  );
}
