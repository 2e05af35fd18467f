import { FuzeError } from '@fuze/core';
import { compileCron } from './cron.js';
import { timerKeyProblem } from './timer-key.js';
import {
  DEFAULT_MISFIRE_GRACE_MS,
  type MisfirePolicy,
  type TimerEventTemplate,
  type TimerSchedule,
  type TimerSpec,
} from './types.js';

/**
 * A `kind: Schedule` document as @fuze/rules parses it (`ScheduleDocument`), reduced to what a
 * timer needs. Declared structurally so `ScheduleDocument[]` can be passed as it is.
 */
export interface ScheduleDeclaration {
  readonly kind: 'Schedule';
  readonly name: string;
  readonly bus: string;
  readonly enabled: boolean;
  readonly key: string;
  readonly event: {
    readonly type: string;
    readonly source: string;
    readonly subject?: string;
    readonly datacontenttype?: string;
    readonly dataschema?: string;
    readonly data?: unknown;
    readonly extensions: Readonly<Record<string, string | number | boolean>>;
  };
  readonly timing: TimerSchedule;
  readonly misfire: MisfirePolicy;
  readonly source?: { readonly file: string; readonly line: number };
}

/** The timer spec a schedule document declares; throws FUZE_INVALID_TIMER naming the document. */
export function scheduleDeclarationToSpec(declaration: ScheduleDeclaration): TimerSpec {
  const where = declaration.source
    ? `${declaration.source.file}:${declaration.source.line} (Schedule ${declaration.name})`
    : `Schedule ${declaration.name}`;
  const keyProblem = timerKeyProblem(declaration.key);
  if (keyProblem) {
    throw new FuzeError('FUZE_INVALID_TIMER', `${where}: spec.key: ${keyProblem}`, {
      details: { problems: [{ pointer: 'spec.key', message: keyProblem }], document: where },
    });
  }
  if (declaration.timing.kind === 'cron') {
    const { cron, timezone } = declaration.timing;
    let never = false;
    try {
      never = compileCron(cron, timezone).nextAfter(Date.now()) === undefined;
    } catch (err) {
      throw new FuzeError('FUZE_INVALID_TIMER', `${where}: spec.cron: ${(err as Error).message}`, {
        details: { problems: [{ pointer: 'spec.cron', message: (err as Error).message }], document: where },
      });
    }
    if (never) {
      throw new FuzeError('FUZE_INVALID_TIMER', `${where}: spec.cron: "${cron}" never fires`, {
        details: { problems: [{ pointer: 'spec.cron', message: 'never fires' }], document: where },
      });
    }
  }
  const { extensions, ...attributes } = declaration.event;
  const event: TimerEventTemplate = { ...extensions, ...attributes };
  return {
    key: declaration.key,
    bus: declaration.bus,
    event,
    schedule: declaration.timing,
    misfire: declaration.misfire,
    misfireGraceMs: DEFAULT_MISFIRE_GRACE_MS,
  };
}
