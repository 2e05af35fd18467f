import { type DeliveryHandler, NonRetryableError } from '@fuze/delivery';
import type { TargetSpec } from '@fuze/rules';
import { deliverHttp } from './http/http-target.js';
import { deliverNats, type NatsTargetDeps } from './nats/nats-target.js';
import type { SecretStore } from './secrets.js';

/**
 * The dispatcher's handler: one attempt at the delivery's target, by kind, with the target's
 * current definition (a rule change applies from the next attempt on).
 */
export function deliverToTarget(
  targetOf: (name: string) => TargetSpec | undefined,
  deps: NatsTargetDeps & { secrets: SecretStore },
): DeliveryHandler {
  return async (delivery) => {
    const spec = targetOf(delivery.target);
    if (!spec) throw new Error(`target ${delivery.target} is no longer defined`);
    switch (spec.kind) {
      case 'http':
        return deliverHttp(spec, delivery, deps.secrets);
      case 'nats':
        return deliverNats(spec, delivery, deps);
      case 'consumer':
        throw new NonRetryableError(`target ${spec.name} is consumed by SDK consumers, not the dispatcher`);
    }
  };
}
