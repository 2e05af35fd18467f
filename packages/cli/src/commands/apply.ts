import { createAdminClient } from '@fuze/core';
import type { Command } from 'commander';
import { adminConnection, runAdminAction, withAdminOptions } from '../admin-connection.js';
import { type FlowLimits, flowLimitsText } from '../output/flow-limits-text.js';
import { readRuleFiles } from '../rule-files.js';

interface ApplyResult {
  dryRun: boolean;
  created: Array<{ bus: string; name: string }>;
  changed: Array<{ bus: string; name: string }>;
  deleted: Array<{ bus: string; name: string }>;
  unchanged: Array<{ bus: string; name: string }>;
  revisions: Record<string, number>;
  schedules: { created: string[]; updated: string[]; unchanged: string[]; pruned: string[] };
  /** Absent from servers older than Bus documents. */
  buses?: { created: string[]; changed: string[]; deleted: string[]; unchanged: string[] };
  /** Absent from servers older than flow control. */
  flowControl?: Array<{ target: string; before: FlowLimits | null; after: FlowLimits | null }>;
  warnings?: string[];
}

export function registerApply(program: Command): void {
  withAdminOptions(program.command('apply'))
    .description('Validate rule, schedule and bus YAML and apply it in one transaction (all or nothing)')
    .requiredOption('-f, --file <path>', 'a YAML file, or a directory applied recursively (*.yaml, *.yml)')
    .option('--dry-run', 'print what would be created, changed and deleted; change nothing')
    .option(
      '--prune',
      'also delete stored rules, cancel YAML-declared schedules and remove Bus documents, of the same buses, that the files no longer declare',
    )
    .addHelpText(
      'after',
      '\nErrors are printed as file:line:column [rule] path: message. See docs/rule-documents.md.',
    )
    .action((options: { file: string; dryRun?: boolean; prune?: boolean }, command: Command) =>
      runAdminAction(async () => {
        const files = readRuleFiles(options.file);
        const client = createAdminClient(adminConnection(command));
        const { body } = await client.request<ApplyResult>('POST', '/v1/apply', {
          files,
          prune: options.prune === true,
          dryRun: options.dryRun === true,
        });
        for (const warning of body.warnings ?? []) console.error(`fuze: warning: ${warning}`);
        console.log(formatApplyResult(body));
      }),
    );
}

export function formatApplyResult(result: ApplyResult): string {
  const verb = result.dryRun ? 'would be ' : '';
  const lines: string[] = [];
  for (const [label, refs] of [
    ['created', result.created],
    ['changed', result.changed],
    ['deleted', result.deleted],
  ] as const) {
    for (const r of refs) lines.push(`${r.bus}/${r.name} ${verb}${label}`);
  }
  if (result.unchanged.length > 0) lines.push(`${result.unchanged.length} rule(s) unchanged`);
  const { schedules } = result;
  for (const [label, keys] of [
    ['created', schedules.created],
    ['changed (re-armed)', schedules.updated],
    ['cancelled (pruned)', schedules.pruned],
  ] as const) {
    for (const key of keys) lines.push(`schedule ${key} ${verb}${label}`);
  }
  if (schedules.unchanged.length > 0)
    lines.push(`${schedules.unchanged.length} schedule(s) unchanged (not re-armed)`);
  const buses = result.buses ?? { created: [], changed: [], deleted: [], unchanged: [] };
  for (const [label, names] of [
    ['created', buses.created],
    ['changed', buses.changed],
    ['deleted (default settings)', buses.deleted],
  ] as const) {
    for (const name of names) lines.push(`bus settings ${name} ${verb}${label}`);
  }
  const limits = (l: FlowLimits | null) => (flowLimitsText(l) === '-' ? 'none' : flowLimitsText(l));
  for (const { target, before, after } of result.flowControl ?? []) {
    lines.push(`target ${target} flow control ${verb}set to ${limits(after)} (was ${limits(before)})`);
  }
  if (lines.length === 0) lines.push('nothing to apply');
  for (const [bus, revision] of Object.entries(result.revisions))
    lines.push(`bus ${bus} is now at revision ${revision}`);
  if (result.dryRun) lines.push('(dry run: nothing was changed)');
  return lines.join('\n');
}
