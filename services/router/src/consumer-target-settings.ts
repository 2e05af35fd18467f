import type { PublishedTargetSettings } from '@fuze/bus';
import type { RuleCatalog } from '@fuze/runtime';

/** The settings of every `consumer` target, as SDK consumers read them (publishTargetSettings). */
export function consumerTargetSettings(catalog: RuleCatalog): Map<string, PublishedTargetSettings> {
  const settings = new Map<string, PublishedTargetSettings>();
  for (const [name, spec] of catalog.targets) {
    if (spec.kind !== 'consumer') continue;
    const revision = Math.max(
      0,
      ...catalog.rules.filter((r) => r.document.targets.some((t) => t.name === name)).map((r) => r.revision),
    );
    settings.set(name, {
      revision,
      partitions: catalog.partitionsOf(name),
      retry: { ...spec.retry },
      ...(spec.circuitBreaker ? { circuitBreaker: { ...spec.circuitBreaker } } : {}),
      ...(spec.rateLimit ? { rateLimit: { ...spec.rateLimit } } : {}),
      ...(spec.maxConcurrency === undefined ? {} : { maxConcurrency: spec.maxConcurrency }),
    });
  }
  return settings;
}
