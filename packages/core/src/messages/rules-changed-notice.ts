import { controlSubject } from '../naming.js';

/**
 * What `fuze apply` (the admin API) announces on `<p>.control.rules` right after its transaction
 * commits: each changed bus and its new revision. Core NATS, at most once: watchers also poll.
 */
export interface RulesChangedNotice {
  buses: Record<string, number>;
}

/** The subject the notice goes to, for publishers and subscribers alike. */
export function rulesChangedSubject(prefix: string): string {
  return controlSubject(prefix, 'rules');
}

export function encodeRulesChangedNotice(notice: RulesChangedNotice): Uint8Array {
  return Buffer.from(JSON.stringify(notice));
}

/** The notice, or undefined when the bytes are not one (a watcher then reloads anyway). */
export function decodeRulesChangedNotice(payload: Uint8Array): RulesChangedNotice | undefined {
  try {
    const value = JSON.parse(Buffer.from(payload).toString('utf8')) as { buses?: unknown };
    const buses = value?.buses;
    if (typeof buses !== 'object' || buses === null || Array.isArray(buses)) return undefined;
    for (const revision of Object.values(buses)) if (typeof revision !== 'number') return undefined;
    return { buses: buses as Record<string, number> };
  } catch {
    return undefined;
  }
}
