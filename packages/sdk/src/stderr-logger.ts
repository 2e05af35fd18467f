import type { LogFn, Logger } from '@fuze/core';

const levels = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
type Level = keyof typeof levels;

/**
 * The SDK's default logger: JSON lines on stderr from `minimum` up, in pino's line shape (`level`,
 * `time`, bindings, fields, `msg`). Pass your own `logger` (pino or any of the same shape) to
 * route the SDK's few warnings into your application's logs; this one keeps pino out of the SDK.
 */
export function stderrLogger(minimum: Level, bindings: Record<string, unknown> = {}): Logger {
  const enabled = (level: string) => level in levels && levels[level as Level] >= levels[minimum];
  const at =
    (level: Level): LogFn =>
    (first: object | string, message?: unknown) => {
      if (!enabled(level)) return;
      const fields = typeof first === 'string' ? {} : serialisable(first);
      const msg = typeof first === 'string' ? first : message;
      const line = { level: levels[level], time: new Date().toISOString(), ...bindings, ...fields, msg };
      process.stderr.write(`${JSON.stringify(line)}\n`);
    };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (more) => stderrLogger(minimum, { ...bindings, ...more }),
    isLevelEnabled: enabled,
  };
}

/** Errors under any field become `{ type, message, code }` (JSON.stringify drops their members). */
function serialisable(fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields))
    out[name] =
      value instanceof Error
        ? { type: value.name, message: value.message, ...('code' in value ? { code: value.code } : {}) }
        : value;
  return out;
}
