import { Command } from 'commander';
import { registerServe } from './commands/serve.js';

/** The `fuze` command line; each command registers itself from commands/. */
export function buildProgram(): Command {
  const program = new Command('fuze')
    .description('Fuze: an EventBridge-style event bus on NATS JetStream and Postgres')
    .version('0.1.0');
  registerServe(program);
  return program;
}
