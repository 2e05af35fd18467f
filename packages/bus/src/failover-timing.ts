/**
 * How soon a consumer notices a JetStream leader election and resumes after it. After a node's
 * kill -9, nats-server 2.9 took 4-9 s to elect new stream and consumer leaders; what Fuze adds
 * after that is bounded by these two.
 */

/**
 * The timeout of the JetStream requests that open a routing shard's or a delivery partition's
 * consumer, of a delivery ack's confirmation, and of a service's publish before it is sent
 * again. A stream or consumer without a leader does not answer:
 * with nats.js's 5 s default, a request sent during the election waited up to 5 s more after it
 * (a key waited 13-14 s in the drill). A slow answer costs one retry; one that never comes costs
 * this much.
 */
export const failoverRequestTimeoutMs = 1_500;

/**
 * The idle heartbeat asked of each pull: two missed mean the pull went to a leader that is gone
 * or not serving yet, and the routing shard or delivery partition reopens. nats.js alone would
 * check the consumer and pull again, after a request of its own timeout (5 s) and a backoff of
 * the pull's expiry: a partition whose consumer leader was killed waited 12.5 s. nats.js's
 * default heartbeat is half the expiry, 1.5 s for Fuze's 3 s pulls (3-4.5 s to notice). An
 * idle partition's pull costs the server one heartbeat a second.
 */
export const pullHeartbeatMs = 1_000;
