import { Command } from 'commander';
import { registerApply } from './commands/apply.js';
import { registerDlq } from './commands/dlq.js';
import { registerReplay } from './commands/replay.js';
import { registerRules } from './commands/rules.js';
import { registerServe } from './commands/serve.js';
import { registerState } from './commands/state.js';
import { registerTail } from './commands/tail.js';
import { registerTargets } from './commands/targets.js';
import { registerTimers } from './commands/timers.js';

/** The `fuze` command line; each command registers itself from commands/. */
export function buildProgram(): Command {
  const program = new Command('fuze')
    .description('Fuze: an EventBridge-style event bus on NATS JetStream and Postgres')
    .version('0.1.0');
  registerServe(program);
  registerApply(program);
  registerRules(program);
  registerTimers(program);
  registerDlq(program);
  registerReplay(program);
  registerTail(program);
  registerTargets(program);
  registerState(program);
  return program;
}
