import { busNamePattern, FuzeError, parseInstantOrAgo } from '@fuze/core';
import { type ArchiveWindow, createArchiveReplayJob, type FuzeDb } from '@fuze/db';
import { requireScope } from '@fuze/http';
import { loadRuleCatalog } from '@fuze/runtime';
import type { FastifyInstance } from 'fastify';
import { replayJobSchema } from '../dlq/dlq-schemas.js';
import { replayJobView } from '../dlq/dlq-views.js';
import type { JetStreamManager } from '../dlq/jetstream.js';
import { invalidRequest } from '../invalid-request.js';
import { expiredWindowProblem } from './archive-window.js';

export interface ArchiveRoutesOptions {
  db: FuzeDb;
  jsm: JetStreamManager;
  /** `<P>_EVENTS`: the archive. */
  eventsStream: string;
}

interface ArchiveReplayBody {
  bus: string;
  from: string;
  to: string;
  rules?: string[];
  targets?: string[];
  dryRun?: boolean;
  ratePerSecond?: number;
}

const name = { type: 'string', minLength: 1, maxLength: 64 } as const;
/** A clock ahead of the server's by this much still may say `to: now`. */
const futureSkewMs = 5_000;

/**
 * `POST /v1/archive/replays`: replays the bus's events accepted in a window through the rules as
 * they are now, as a background job followed and cancelled at `/v1/replays/:id`.
 */
export async function archiveRoutes(app: FastifyInstance, options: ArchiveRoutesOptions): Promise<void> {
  app.post<{ Body: ArchiveReplayBody }>(
    '/v1/archive/replays',
    {
      preHandler: requireScope('events:replay'),
      schema: {
        tags: ['archive'],
        summary: "Replay a bus's events accepted in [from, to) through its rules, in per-key order",
        description:
          'Creates a job (follow it, or cancel it, at /v1/replays/{id}). Each event is matched against the rules ' +
          'as they are when the job runs and delivered again through the partitioned path, in its original ' +
          'per-key order, with the `fuzereplay` extension naming the job. A dry run counts the events and ' +
          'deliveries per rule and target, and delivers nothing.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['bus', 'from', 'to'],
          properties: {
            bus: { type: 'string', minLength: 1, maxLength: 64 },
            from: {
              type: 'string',
              description: 'start of the window (included): an RFC 3339 time, or a duration ago (`2h`)',
            },
            to: {
              type: 'string',
              description: 'end of the window (excluded): an RFC 3339 time, a duration ago, or `now`',
            },
            rules: {
              type: 'array',
              items: name,
              minItems: 1,
              maxItems: 100,
              uniqueItems: true,
              description: 'only these rules of the bus (default: every enabled rule of the bus)',
            },
            targets: {
              type: 'array',
              items: name,
              minItems: 1,
              maxItems: 100,
              uniqueItems: true,
              description: 'only deliveries to these targets (default: every target of those rules)',
            },
            dryRun: { type: 'boolean', description: 'count what would be delivered; deliver nothing' },
            ratePerSecond: {
              type: 'integer',
              minimum: 1,
              maximum: 100_000,
              description: 'read at most this many events per second',
            },
          },
        },
        response: {
          202: { description: 'the job was created; follow it at /v1/replays/{id}', ...replayJobSchema },
          400: { $ref: 'problem#' },
          410: { $ref: 'problem#' },
        },
      },
    },
    async (request, reply) => {
      const window = await checkedWindow(request.body, options);
      const job = await createArchiveReplayJob(options.db, {
        window,
        ratePerSecond: request.body.ratePerSecond,
        dryRun: request.body.dryRun === true,
        principal: request.principal?.id ?? 'anonymous',
      });
      reply.header('location', `/v1/replays/${job.id}`);
      return reply.code(202).send(replayJobView(job));
    },
  );
}

/** The window as stored (times as RFC 3339), or every problem of the request at once. */
async function checkedWindow(body: ArchiveReplayBody, options: ArchiveRoutesOptions): Promise<ArchiveWindow> {
  const problems: Array<{ pointer: string; message: string }> = [];
  const now = Date.now();
  if (!busNamePattern.test(body.bus))
    problems.push({
      pointer: 'body.bus',
      message: `"${body.bus}" is not a bus name: use [a-z0-9-], at most 64 characters`,
    });
  const from = parseInstantOrAgo(body.from, now);
  const to = parseInstantOrAgo(body.to, now);
  if (from === undefined)
    problems.push({
      pointer: 'body.from',
      message: `"${body.from}" is neither an RFC 3339 time nor a duration such as 2h`,
    });
  if (to === undefined)
    problems.push({
      pointer: 'body.to',
      message: `"${body.to}" is neither an RFC 3339 time, a duration such as 2h, nor now`,
    });
  if (from !== undefined && to !== undefined && from >= to)
    problems.push({ pointer: 'body.to', message: 'must be after from: the window is [from, to)' });
  if (to !== undefined && to > now + futureSkewMs)
    problems.push({
      pointer: 'body.to',
      message: 'is in the future: a replay reads events already accepted; use now at most',
    });
  const catalog = await loadRuleCatalog(options.db);
  const ofBus = catalog.rules.filter((rule) => rule.bus === body.bus);
  const chosen = body.rules
    ? ofBus.filter((rule) => body.rules!.includes(rule.name))
    : ofBus.filter((r) => r.enabled);
  body.rules?.forEach((ruleName, i) => {
    const rule = ofBus.find((r) => r.name === ruleName);
    if (!rule)
      problems.push({ pointer: `body.rules/${i}`, message: `bus ${body.bus} has no rule named ${ruleName}` });
    else if (!rule.enabled)
      problems.push({
        pointer: `body.rules/${i}`,
        message: `rule ${ruleName} is disabled: enable it, or leave it out`,
      });
  });
  const reachable = new Set(chosen.flatMap((rule) => rule.document.targets.map((t) => t.name)));
  body.targets?.forEach((target, i) => {
    if (!reachable.has(target))
      problems.push({
        pointer: `body.targets/${i}`,
        message: `no ${body.rules ? 'named ' : ''}rule of bus ${body.bus} has a target named ${target}`,
      });
  });
  if (problems.length > 0) throw invalidRequest(...problems);
  const info = await options.jsm.streams.info(options.eventsStream).catch((err: unknown) => {
    throw new FuzeError('FUZE_NATS_UNAVAILABLE', `cannot read the events stream: ${(err as Error).message}`, {
      cause: err,
    });
  });
  const expired = expiredWindowProblem(info.state, from!, info.config.max_age / 1e6);
  if (expired) {
    throw new FuzeError('FUZE_ARCHIVE_EXPIRED', expired, {
      details: { oldestAvailable: new Date(Date.parse(info.state.first_ts)).toISOString() },
    });
  }
  return {
    bus: body.bus,
    from: new Date(from!).toISOString(),
    to: new Date(to!).toISOString(),
    ...(body.rules ? { rules: body.rules } : {}),
    ...(body.targets ? { targets: body.targets } : {}),
  };
}
