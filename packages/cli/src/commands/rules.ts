import { readFileSync } from 'node:fs';
import { createAdminClient } from '@fuze/core';
import type { Command } from 'commander';
import { adminConnection, runAdminAction, withAdminOptions } from '../admin-connection.js';

interface RuleTestResult {
  bus: string;
  matched: Array<{ rule: string; targets: string[] }>;
  notMatched: Array<{ rule: string; path?: string; reason: string }>;
}

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('Inspect rules and test events against them');

  withAdminOptions(rules.command('list'))
    .description('List the stored rules')
    .option('--bus <bus>', 'only this bus')
    .action((options: { bus?: string }, command: Command) =>
      runAdminAction(async () => {
        const query = options.bus ? `?bus=${encodeURIComponent(options.bus)}` : '';
        const { body } = await createAdminClient(adminConnection(command)).request<{
          items: Array<{ bus: string; name: string; enabled: boolean; revision: number }>;
        }>('GET', `/v1/rules${query}`);
        for (const r of body.items)
          console.log(`${r.bus}/${r.name}\trevision ${r.revision}${r.enabled ? '' : '\t(disabled)'}`);
      }),
    );

  withAdminOptions(rules.command('test'))
    .description('Which rules and targets would receive an event, and why the other rules would not')
    .requiredOption('-e, --event <file>', 'a CloudEvent as JSON (structured form)')
    .option('--bus <bus>', 'the bus the event would be published to', 'default')
    .action((options: { event: string; bus: string }, command: Command) =>
      runAdminAction(async () => {
        const event = JSON.parse(readFileSync(options.event, 'utf8'));
        const { body } = await createAdminClient(adminConnection(command)).request<RuleTestResult>(
          'POST',
          '/v1/rules/test',
          {
            event,
            bus: options.bus,
          },
        );
        console.log(formatRuleTest(body));
      }),
    );
}

export function formatRuleTest(result: RuleTestResult): string {
  const lines = result.matched.map((m) => `MATCH    ${m.rule} -> ${m.targets.join(', ')}`);
  for (const n of result.notMatched)
    lines.push(`no match ${n.rule}: ${n.path ? `${n.path}: ` : ''}${n.reason}`);
  if (lines.length === 0) lines.push(`no rules on bus ${result.bus}`);
  return lines.join('\n');
}
