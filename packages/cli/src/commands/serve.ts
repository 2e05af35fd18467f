import { applyRuleFiles } from '@fuze/admin';
import {
  createLogger,
  FuzeError,
  isFuzeError,
  loadConfig,
  redactConfig,
  unknownVariableProblems,
} from '@fuze/core';
import { type ServiceName, serviceNames, startFuze } from '@fuze/runtime';
import type { Command } from 'commander';
import { readRuleFiles } from '../rule-files.js';
import { serviceModules } from '../service-registry.js';

interface ServeOptions {
  services: string;
  verifyConfig?: boolean;
  printConfig?: boolean;
  rules?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run Fuze services in this process (all of them by default)')
    .option(
      '-s, --services <list>',
      `comma-separated services to run: ${serviceNames.join(', ')}, or all`,
      'all',
    )
    .option('--verify-config', 'validate the configuration (FUZE_* variables), print problems, and exit')
    .option('--print-config', 'print the resolved configuration (secrets redacted) and exit')
    .option(
      '--rules <dir>',
      'apply the rule YAML in this directory (or file) at start, as `fuze apply -f` does',
    )
    .addHelpText(
      'after',
      '\nConfiguration comes from FUZE_* environment variables; see docs/configuration.md.\n' +
        'SIGTERM/SIGINT drain in-flight work and exit 0.',
    )
    .action(async (options: ServeOptions) => {
      process.exitCode = await serve(options);
    });
}

async function serve(options: ServeOptions): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  let selected: ServiceName[];
  try {
    config = loadConfig(process.env, { strict: options.verifyConfig === true });
    selected = parseServices(options.services);
  } catch (err) {
    if (!isFuzeError(err)) throw err;
    console.error(`fuze: ${err.message}`);
    return 1;
  }
  if (options.printConfig) {
    console.log(JSON.stringify({ ...(redactConfig(config) as object), services: selected }, null, 2));
    return 0;
  }
  if (options.verifyConfig) {
    console.log(`configuration is valid (services: ${selected.join(', ')})`);
    return 0;
  }

  const logger = createLogger(config.log.level);
  for (const problem of unknownVariableProblems(process.env)) logger.warn(problem);
  let fuze: Awaited<ReturnType<typeof startFuze>>;
  try {
    const ruleFiles = options.rules === undefined ? undefined : readRuleFiles(options.rules);
    fuze = await startFuze({
      config,
      logger,
      modules: selected.map((name) => serviceModules[name]),
      prepare: async (infrastructure) => {
        if (!ruleFiles) return;
        const result = await applyRuleFiles(
          { db: infrastructure.database.db, nats: infrastructure.nats, prefix: config.streams.prefix },
          ruleFiles,
        );
        logger.info(
          { created: result.created.length, changed: result.changed.length, revisions: result.revisions },
          `applied rules from ${options.rules}`,
        );
        for (const warning of result.warnings) logger.warn({ rules: options.rules }, warning);
      },
    });
  } catch (err) {
    // The JSON log keeps the stack; the terminal gets one line it can act on.
    logger.fatal({ err, code: isFuzeError(err) ? err.code : undefined }, (err as Error).message);
    console.error(`fuze: ${oneLine(err)}`);
    return 1;
  }
  logger.info({ services: fuze.services }, 'fuze is running');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without finishing the drain');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'draining in-flight work');
      fuze.stop().then(
        () => resolve(0),
        (err) => {
          logger.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

function parseServices(list: string): ServiceName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0 || names.includes('all')) return [...serviceNames];
  const unknown = names.filter((n) => !(serviceNames as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new FuzeError(
      'FUZE_CONFIG_INVALID',
      `--services: unknown service ${unknown.map((u) => `"${u}"`).join(', ')}; choose from ${serviceNames.join(', ')}, or all`,
    );
  }
  return [...new Set(names)] as ServiceName[];
}

/** `message (CODE)` for a FuzeError, `Name: message` for anything else, on one line. */
function oneLine(err: unknown): string {
  const text = (message: string) => message.replace(/\s*\n\s*/g, ' ');
  if (isFuzeError(err)) return `${text(err.message)} (${err.code})`;
  if (err instanceof Error) return `${err.name}: ${text(err.message)}`;
  return String(err);
}
