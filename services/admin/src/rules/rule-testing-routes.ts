import { type FuzeDb, listStoredRules } from '@fuze/db';
import { requireScope } from '@fuze/http';
import { type CloudEventLike, compilePattern, type RuleDocument } from '@fuze/rules';
import type { FastifyInstance } from 'fastify';
import { compileRequestPattern } from './request-pattern.js';

/**
 * "Will this match?" and "why didn't my rule match?": pattern tests, and an event tested
 * against every stored rule with the first failing field of each rule that did not match.
 */
export async function ruleTestingRoutes(app: FastifyInstance, options: { db: FuzeDb }): Promise<void> {
  app.post<{ Body: { pattern: unknown; event: CloudEventLike } }>(
    '/v1/patterns/test',
    {
      preHandler: requireScope('rules:read'),
      schema: {
        tags: ['rules'],
        summary: 'Test an event pattern against an event',
        body: {
          type: 'object',
          required: ['pattern', 'event'],
          properties: { pattern: {}, event: { type: 'object' } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              matched: { type: 'boolean' },
              path: { type: 'string' },
              reason: { type: 'string' },
            },
          },
          400: { $ref: 'problem#' },
        },
      },
    },
    async (request) => {
      return compileRequestPattern(request.body.pattern, 'body.pattern').explain(request.body.event);
    },
  );

  app.post<{ Body: { event: CloudEventLike; bus?: string } }>(
    '/v1/rules/test',
    {
      preHandler: requireScope('rules:read'),
      schema: {
        tags: ['rules'],
        summary: 'Which rules and targets would receive this event, and why the others would not',
        body: {
          type: 'object',
          required: ['event'],
          properties: { event: { type: 'object' }, bus: { type: 'string' } },
        },
      },
    },
    async (request) => {
      const bus = request.body.bus ?? 'default';
      const matched: Array<{ rule: string; targets: string[] }> = [];
      const notMatched: Array<{ rule: string; enabled: boolean; path?: string; reason: string }> = [];
      for (const stored of await listStoredRules(options.db, bus)) {
        const document = stored.document as unknown as RuleDocument;
        const explanation = compilePattern(document.pattern).explain(request.body.event);
        if (explanation.matched && stored.enabled) {
          matched.push({ rule: stored.name, targets: document.targets.map((t) => t.name) });
        } else if (explanation.matched) {
          notMatched.push({
            rule: stored.name,
            enabled: false,
            reason: 'the pattern matches, but the rule is disabled',
          });
        } else {
          notMatched.push({
            rule: stored.name,
            enabled: stored.enabled,
            path: explanation.path,
            reason: explanation.reason,
          });
        }
      }
      return { bus, matched, notMatched };
    },
  );
}
