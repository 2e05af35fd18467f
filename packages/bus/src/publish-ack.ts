/** JetStream's acknowledgement: the message is durably stored (or was already, if `duplicate`). */
export interface PublishAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}
