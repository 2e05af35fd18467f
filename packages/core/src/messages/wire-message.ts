/**
 * A message as it goes onto the bus: what each `encode...Message` of this folder returns and what
 * `JetStreamPublisher.publish` of @fuze/bus takes.
 */
export interface WireMessage {
  subject: string;
  payload: Uint8Array;
  /** `Nats-Msg-Id`: the same message published twice within the duplicate window is stored once. */
  msgId: string;
  headers?: Readonly<Record<string, string>>;
  /**
   * Publishes with the same ordering key are stored in call order: each waits until the one
   * before it was stored, and fails without being sent if that one failed. (Pipelining them could
   * store a later one first: a 503 during a leader election, a lost connection, a timeout
   * re-sent after the next publish landed.)
   */
  orderingKey?: string;
}
