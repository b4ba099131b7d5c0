export type MessageKind = 'command' | 'event' | 'request';

/**
 * A message type on the wire: its routing key, its version and the class-validator class its
 * `data` must satisfy when consumed. Bump `version` on a breaking change and keep the old contract
 * until no producer sends it.
 */
export interface MessageContract<TData extends object> {
  readonly type: string;
  readonly version: number;
  readonly kind: MessageKind;
  readonly exchange: string;
  readonly data: new () => TData;
}

export type DataOf<C> = C extends MessageContract<infer D> ? D : never;

/** What travels as the body of every message (the contract's event envelope). */
export interface Envelope<TData = unknown> {
  eventId: string;
  type: string;
  version: number;
  occurredAt: string;
  data: TData;
}
