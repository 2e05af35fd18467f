import { type Logger as PinoLogger, pino } from 'pino';
import type { LogLevel } from './config/index.js';

export type { PinoLogger };

/** One logging call, in pino's two shapes: fields then a message, or a message alone. */
export interface LogFn {
  (fields: object, message?: string, ...args: unknown[]): void;
  (message: string, ...args: unknown[]): void;
}

/**
 * The logging Fuze's code does: pino's shape, so a pino logger fits, and so does any logger of
 * the same shape that an application hands to the SDK (which brings no pino of its own).
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled(level: string): boolean;
}

/**
 * Extra fields for one log line, computed when it is written (e.g. the active span's `trace_id` and
 * `span_id`). Returns a fresh object, or undefined for none.
 */
export type LogMixin = () => Record<string, unknown> | undefined;

export interface LoggerOptions {
  /** Fields added to every line of this logger and its children. */
  mixin?: LogMixin;
}

let processMixin: LogMixin | undefined;

/**
 * Fields added to every line of every logger of the process, including loggers created before
 * this call: @fuze/telemetry sets it to the active span's ids when tracing starts. Core itself
 * knows nothing of tracing.
 */
export function setProcessLogMixin(mixin: LogMixin | undefined): void {
  processMixin = mixin;
}

// Returned when there is nothing to add; the merge strategy below never writes into it.
const noFields: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

function mixinFields(own: LogMixin | undefined): Record<string, unknown> {
  const shared = processMixin?.();
  const local = own?.();
  if (!shared) return local ?? noFields;
  return local ? Object.assign(shared, local) : shared;
}

/** JSON logs to stdout; every service gets a child logger bound to `service`. */
export function createLogger(
  level: LogLevel,
  bindings: Record<string, unknown> = {},
  options: LoggerOptions = {},
): PinoLogger {
  const own = options.mixin;
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => mixinFields(own),
    // The line's own fields win over mixed-in ones (pino's default), without a copy when none are mixed in.
    mixinMergeStrategy: (fields, mixed) => (mixed === noFields ? fields : Object.assign(mixed, fields)),
  });
}
