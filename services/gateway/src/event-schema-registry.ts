import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createAjv, type EventProblem, FuzeError, type Logger, linearRegExp } from '@fuze/core';
import { type FuzeDb, listEventSchemas } from '@fuze/db';
import type { ValidateFunction } from 'ajv';

/**
 * JSON Schemas for `data`, per CloudEvent type: files `schemas/events/<type>.json` (or
 * `<type>.schema.json`) and rows registered through the admin API (those win).
 * Postgres is read in the background, so the ingest path never waits for it and keeps the
 * last known schemas if it is down.
 */
export class EventSchemaRegistry {
  private readonly ajv = createAjv({ regExp: linearRegExp });
  private validators = new Map<string, ValidateFunction>();
  /** The JSON each validator was compiled from, to tell a changed schema from the same one. */
  private sources = new Map<string, string>();
  private fileSchemas = new Map<string, unknown>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: { dir: string; db: FuzeDb; logger: Logger; refreshMs?: number }) {}

  async start(): Promise<void> {
    this.fileSchemas = readSchemaFiles(this.options.dir);
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Recompiles from files and Postgres; on a database error, keeps what it had. */
  async refresh(): Promise<void> {
    let rows: Array<{ type: string; schema: unknown }>;
    try {
      rows = await listEventSchemas(this.options.db);
    } catch (err) {
      this.options.logger.warn(
        { err },
        'cannot read event schemas from Postgres; keeping the last known ones',
      );
      if (this.validators.size > 0 || this.fileSchemas.size === 0) return;
      rows = [];
    }
    const next = new Map<string, ValidateFunction>();
    const nextSources = new Map<string, string>();
    for (const [type, schema] of [...this.fileSchemas, ...rows.map((r) => [r.type, r.schema] as const)]) {
      const stripped = stripId(schema);
      const source = JSON.stringify(stripped);
      nextSources.set(type, source);
      // Unchanged schemas keep their validator: ajv caches each compiled schema object, so
      // compiling every refresh would grow its cache without bound.
      const current = this.validators.get(type);
      if (current && this.sources.get(type) === source) {
        next.set(type, current);
        continue;
      }
      try {
        next.set(type, this.ajv.compile(stripped));
      } catch (err) {
        this.options.logger.error(
          { err, type },
          'event schema does not compile; events of this type are not validated',
        );
      }
    }
    for (const [type, validate] of this.validators) {
      if (next.get(type) !== validate) this.ajv.removeSchema(validate.schema as object);
    }
    this.validators = next;
    this.sources = nextSources;
  }

  /** Throws FUZE_INVALID_DATA naming each failing JSON path under `data`. */
  assertValidData(type: string, data: unknown): void {
    const validate = this.validators.get(type);
    if (!validate || validate(data)) return;
    const problems: EventProblem[] = (validate.errors ?? []).map((e) => {
      const path = `data${e.instancePath.replaceAll('/', '.')}`;
      const missing = e.keyword === 'required' ? `.${String(e.params.missingProperty)}` : '';
      return { pointer: path + missing, message: e.message ?? e.keyword };
    });
    throw new FuzeError(
      'FUZE_INVALID_DATA',
      `data does not match the schema registered for ${type}: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`,
      { details: { problems } },
    );
  }
}

function readSchemaFiles(dir: string): Map<string, unknown> {
  const schemas = new Map<string, unknown>();
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return schemas; // no directory: no file schemas
  }
  for (const file of files) {
    const type = basename(file).replace(/(\.schema)?\.json$/, '');
    try {
      schemas.set(type, JSON.parse(readFileSync(join(dir, file), 'utf8')));
    } catch (err) {
      throw new FuzeError(
        'FUZE_SCHEMA_INVALID',
        `${join(dir, file)} is not valid JSON: ${(err as Error).message}`,
      );
    }
  }
  return schemas;
}

// Several files may reuse one $id; ajv refuses duplicates, and the type is our key anyway.
function stripId(schema: unknown): object {
  if (typeof schema !== 'object' || schema === null) return {};
  const { $id: _ignored, ...rest } = schema as Record<string, unknown>;
  return rest;
}
