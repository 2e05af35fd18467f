import { encodeRulesChangedNotice, FuzeError, rulesChangedSubject } from '@fuze/core';
import {
  applyRuleChanges,
  type FuzeDb,
  listStoredBuses,
  listStoredRules,
  type RuleChanges,
  type StoredRule,
} from '@fuze/db';
import {
  type BusDocument,
  type DocumentError,
  formatDocumentError,
  parseRuleDocuments,
  type RuleDocument,
  type ScheduleDocument,
} from '@fuze/rules';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ApplyBusesResult, duplicateBuses, planBuses } from './apply-buses.js';
import { type ApplySchedulesResult, applySchedules } from './apply-schedules.js';
import { type FlowControlChange, flowControlChanges } from './flow-control-changes.js';
import { orderingKeyWarnings } from './ordering-key-warnings.js';
import { canonicalJson, deliveryDefinition, type RuleRef, storedDocument } from './rule-ref.js';

export interface RuleFile {
  path: string;
  content: string;
}

export interface ApplyOptions {
  /**
   * Delete stored rules, and cancel YAML-declared schedules, of the buses in these files that the
   * files no longer declare.
   */
  prune?: boolean;
  dryRun?: boolean;
}

export interface ApplyResult {
  dryRun: boolean;
  created: RuleRef[];
  changed: RuleRef[];
  deleted: RuleRef[];
  unchanged: RuleRef[];
  /** New revision of each bus the apply changed (empty on a dry run or when nothing changed). */
  revisions: Record<string, number>;
  /** `kind: Schedule` documents, by timer key. */
  schedules: ApplySchedulesResult;
  /** `kind: Bus` documents, by bus name. */
  buses: ApplyBusesResult;
  /** Targets whose rateLimit, maxConcurrency or circuitBreaker the apply changes (or would). */
  flowControl: FlowControlChange[];
  /** What applied but may not do what was meant (e.g. a target ordered by another key than its bus). */
  warnings: string[];
}

/** Thrown inside the transaction of a dry run, so that what the schedules would do is rolled back. */
class DryRunRollback extends Error {}

export interface ApplyDeps {
  db: FuzeDb;
  nats: NatsConnection;
  prefix: string;
}

/**
 * `fuze apply`: validates every document of every file first (all problems, with
 * file:line:column), then applies all changes, rules and schedules, in one transaction or none,
 * then tells every router. Returns what was (or, on a dry run, would be) created, changed and
 * deleted. A dry run computes the schedules' outcome inside the transaction, then rolls it back.
 */
export async function applyRuleFiles(
  deps: ApplyDeps,
  files: RuleFile[],
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const errors: DocumentError[] = [];
  const rules: RuleDocument[] = [];
  const schedules: ScheduleDocument[] = [];
  const buses: BusDocument[] = [];
  for (const file of files) {
    const parsed = parseRuleDocuments(file.content, file.path);
    errors.push(...parsed.errors);
    for (const doc of parsed.documents) {
      if (doc.kind === 'Rule') rules.push(doc);
      else if (doc.kind === 'Bus') buses.push(doc);
      else schedules.push(doc);
    }
  }
  const stored = await listStoredRules(deps.db);
  errors.push(
    ...duplicateRules(rules),
    ...duplicateBuses(buses),
    ...conflictingTargets(rules, stored, options.prune === true),
  );
  if (errors.length > 0) {
    throw new FuzeError(
      'FUZE_INVALID_RULE',
      `${errors.length} problem(s) in the rule files:\n${errors.map(formatDocumentError).join('\n')}`,
      {
        details: {
          problems: errors.map((e) => ({
            pointer: `${e.file}:${e.line}:${e.column}${e.path ? ` ${e.path}` : ''}`,
            message: e.message,
            rule: e.rule,
          })),
        },
      },
    );
  }

  const plan = diff(rules, stored, options.prune === true);
  const prune = options.prune
    ? { buses: [...new Set([...rules, ...schedules, ...buses].map((d) => d.bus))] }
    : undefined;
  const storedBuses = await listStoredBuses(deps.db);
  const busPlan = planBuses(buses, storedBuses, prune);
  plan.changes.buses = busPlan.changes;
  const rulesChange =
    plan.changes.upserts.length > 0 || plan.changes.deletes.length > 0 || busPlan.changes.length > 0;
  let revisions = new Map<string, number>();
  let schedulesResult: ApplySchedulesResult = { created: [], updated: [], unchanged: [], pruned: [] };
  try {
    await deps.db.transaction(async (tx) => {
      if (rulesChange && !options.dryRun) revisions = await applyRuleChanges(tx, plan.changes);
      schedulesResult = await applySchedules(tx, schedules, prune ? { prune } : {});
      if (options.dryRun) throw new DryRunRollback();
    });
  } catch (err) {
    if (!(err instanceof DryRunRollback)) throw err;
  }
  const result: ApplyResult = {
    dryRun: options.dryRun === true,
    ...plan.summary,
    revisions: Object.fromEntries(revisions),
    schedules: schedulesResult,
    buses: busPlan.summary,
    flowControl: flowControlChanges(stored, plan.changes),
    warnings: orderingKeyWarnings(rules, buses, storedBuses, busPlan.summary.deleted),
  };
  if (revisions.size > 0) announceRuleRevisions(deps, result.revisions);
  return result;
}

/** Tells every router to reload (core NATS; routers also poll, in case this is lost). */
export function announceRuleRevisions(
  deps: Pick<ApplyDeps, 'nats' | 'prefix'>,
  revisions: Record<string, number>,
): void {
  deps.nats.publish(rulesChangedSubject(deps.prefix), encodeRulesChangedNotice({ buses: revisions }));
}

function diff(rules: RuleDocument[], stored: StoredRule[], prune: boolean) {
  const existing = new Map(stored.map((r) => [`${r.bus}/${r.name}`, r]));
  const summary = {
    created: [] as RuleRef[],
    changed: [] as RuleRef[],
    deleted: [] as RuleRef[],
    unchanged: [] as RuleRef[],
  };
  const changes: RuleChanges = { upserts: [], deletes: [] };
  const declared = new Set<string>();
  for (const rule of rules) {
    const ref = { bus: rule.bus, name: rule.name };
    const key = `${rule.bus}/${rule.name}`;
    declared.add(key);
    const document = storedDocument(rule);
    const before = existing.get(key);
    if (
      before &&
      before.enabled === rule.enabled &&
      canonicalJson(before.document) === canonicalJson(document)
    ) {
      summary.unchanged.push(ref);
      continue;
    }
    (before ? summary.changed : summary.created).push(ref);
    changes.upserts.push({ ...ref, enabled: rule.enabled, document });
  }
  if (prune) {
    const buses = new Set(rules.map((r) => r.bus));
    for (const r of stored) {
      if (buses.has(r.bus) && !declared.has(`${r.bus}/${r.name}`)) {
        summary.deleted.push({ bus: r.bus, name: r.name });
        changes.deletes.push({ bus: r.bus, name: r.name });
      }
    }
  }
  return { summary, changes };
}

function duplicateRules(rules: RuleDocument[]): DocumentError[] {
  const seen = new Map<string, RuleDocument>();
  const errors: DocumentError[] = [];
  for (const rule of rules) {
    const key = `${rule.bus}/${rule.name}`;
    const first = seen.get(key);
    if (first) {
      errors.push(
        atRule(
          rule,
          'metadata.name',
          `rule "${rule.name}" on bus "${rule.bus}" is also declared at ${first.source.file}:${first.source.line}`,
        ),
      );
    } else {
      seen.set(key, rule);
    }
  }
  return errors;
}

/** A target name means one delivery definition everywhere: in these files and in rules they leave in place. */
function conflictingTargets(rules: RuleDocument[], stored: StoredRule[], prune: boolean): DocumentError[] {
  const replaced = new Set(rules.map((r) => `${r.bus}/${r.name}`));
  const buses = new Set(rules.map((r) => r.bus));
  const definitions = new Map<string, { definition: string; where: string }>();
  for (const r of stored) {
    if (replaced.has(`${r.bus}/${r.name}`) || (prune && buses.has(r.bus))) continue;
    for (const target of (r.document as unknown as RuleDocument).targets) {
      definitions.set(target.name, {
        definition: deliveryDefinition(target),
        where: `stored rule ${r.bus}/${r.name}`,
      });
    }
  }
  const errors: DocumentError[] = [];
  for (const rule of rules) {
    rule.targets.forEach((target, i) => {
      const definition = deliveryDefinition(target);
      const other = definitions.get(target.name);
      if (other && other.definition !== definition) {
        errors.push(
          atRule(
            rule,
            `spec.targets[${i}]`,
            `target "${target.name}" is defined differently in ${other.where}: a target name is global, so its kind, endpoint, retry policy, partitions and flow control (rateLimit, maxConcurrency, circuitBreaker) must match (or give this target another name)`,
          ),
        );
      } else if (!other) {
        definitions.set(target.name, {
          definition,
          where: `rule ${rule.bus}/${rule.name} (${rule.source.file}:${rule.source.line})`,
        });
      }
    });
  }
  return errors;
}

function atRule(rule: RuleDocument, path: string, message: string): DocumentError {
  return { file: rule.source.file, line: rule.source.line, column: 1, rule: rule.name, path, message };
}
