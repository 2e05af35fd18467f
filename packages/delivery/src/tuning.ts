/** Knobs of the delivery engine; the defaults suit webhooks answering in milliseconds to seconds. */
export interface DeliveryTuning {
  /**
   * JetStream ack wait of the delivery consumers. Held messages are kept alive with `working()`
   * every third of it, so it only matters when a worker vanishes: the unordered consumer's
   * messages come back after it. (Ordered partitions do not wait for it: a new owner sends what
   * its durable still waits an ack for back to be redelivered at once.) Default 10 s.
   */
  ackWaitMs: number;
  /**
   * Messages a worker holds per partition (JetStream max_ack_pending): running, waiting behind
   * their key, or waiting for a retry. This is the parking budget of failing keys: when a
   * partition's held messages all belong to stuck keys, the partition waits. Default 1,000.
   */
  maxAckPending: number;
  /** Messages asked for per pull request. Default 256. */
  pullBatch: number;
  /**
   * How long a pull request lives (its idle heartbeat is half of it; two missed heartbeats make
   * the client pull again). After a NATS node is lost, a pull parked on it is noticed only this
   * late: nats.js's 30 s default kept partitions idle for up to 87 s in the cluster drills.
   * And it must lapse before the partition can move: a paused owner's pull stays on the server
   * and takes the next owner's messages until it expires (with 10 s, keys of a SIGSTOPped owner's
   * partitions waited 14.6-17.9 s instead of 6-7 s, the next owner restarting at each stolen
   * message). A pull sent just before a pause must expire within the 3/4 of a TTL that the
   * owner's fence stays open after a renewal: default 3 s (the TTL is 5 s).
   */
  pullExpiresMs: number;
  /** Attempts running at once per target in this process. Default 64. */
  maxConcurrency: number;
  /**
   * When a partition is handed over (rebalance, lost lease), running attempts get this long to
   * finish before they are aborted (and left unacked for the next owner). Default 500 ms.
   */
  releaseGraceMs: number;
  /** The same on shutdown (`stop()`). Default 5 s. */
  shutdownGraceMs: number;
  /** Partition lease TTL: a dead worker's partitions move after about this long. Default 5 s, as the router's: the `<P>_LEASES` bucket takes the TTL of whoever creates it, so every service must agree. */
  leaseTtlMs: number;
}

export const defaultDeliveryTuning: Readonly<DeliveryTuning> = Object.freeze({
  ackWaitMs: 10_000,
  maxAckPending: 1_000,
  pullBatch: 256,
  pullExpiresMs: 3_000,
  maxConcurrency: 64,
  releaseGraceMs: 500,
  shutdownGraceMs: 5_000,
  leaseTtlMs: 5_000,
});
