import { type AdminClientOptions, defaultAdminUrl, isFuzeError } from '@fuze/core';
import type { Command } from 'commander';

/** Adds `--admin-url` and `--token` to a command (and its help). */
export function withAdminOptions(command: Command): Command {
  return command
    .option('--admin-url <url>', `admin API base URL (env FUZE_ADMIN_URL, default ${defaultAdminUrl})`)
    .option('--token <token>', 'bearer token: FUZE_ADMIN_TOKEN or an API key (env FUZE_ADMIN_TOKEN)');
}

/** The admin connection of a command (its own flags and its parents'), for @fuze/core's `createAdminClient`. */
export function adminConnection(command: Command): AdminClientOptions {
  const options = command.optsWithGlobals<{ adminUrl?: string; token?: string }>();
  return {
    ...(options.adminUrl === undefined ? {} : { adminUrl: options.adminUrl }),
    ...(options.token === undefined ? {} : { token: options.token }),
  };
}

/**
 * Runs a command's action: an error is printed as `fuze: <message>` on stderr (see
 * `describeError`) and the exit code is 1.
 */
export async function runAdminAction(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    console.error(`fuze: ${describeError(err)}`);
    process.exitCode = 1;
  }
}

/**
 * An admin API error as a terminal shows it: `<detail> (<code>, HTTP <status>)`, then one indented
 * line per field problem the detail does not already say.
 */
export function describeError(err: unknown): string {
  if (!isFuzeError(err)) return err instanceof Error ? err.message : String(err);
  const status = typeof err.details.status === 'number' ? `HTTP ${err.details.status}` : undefined;
  const head = `${err.message} (${[err.code, status].filter(Boolean).join(', ')})`;
  const problems = Array.isArray(err.details.problems)
    ? (err.details.problems as Array<{ pointer: string; message: string }>)
    : [];
  const lines = problems
    .filter((p) => !err.message.includes(p.message))
    .map((p) => `\n  - ${p.pointer || '(request)'}: ${p.message}`);
  return head + lines.join('');
}
