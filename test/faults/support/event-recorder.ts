import { connect, type ChannelModel } from 'amqplib';
import { Exchanges } from '@pacslink/contracts';

export const TERMINAL_EVENTS = ['transfer.completed', 'transfer.failed', 'transfer.cancelled'] as const;
export type TerminalEvent = (typeof TERMINAL_EVENTS)[number];

export interface RecordedEvent {
  eventId: string;
  type: string;
  at: number;
  error?: string;
}

interface Envelope {
  eventId: string;
  type: string;
  data: { transferId: string; error?: string };
}

/**
 * Every `transfer.*` event on pacslink.events, as a subscriber sees it: a queue of the suite's
 * own, bound before any service starts, on a connection that no fault cuts. Every delivery is kept
 * (the contract promises exactly one terminal event per transfer, and this is where it is counted).
 */
export class EventRecorder {
  private readonly events = new Map<string, RecordedEvent[]>();

  private constructor(private readonly connection: ChannelModel) {}

  static async start(amqpUrl: string): Promise<EventRecorder> {
    const connection = await connect(amqpUrl);
    const recorder = new EventRecorder(connection);
    const channel = await connection.createChannel();
    await channel.assertExchange(Exchanges.Events, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, Exchanges.Events, 'transfer.#');
    await channel.consume(queue, (message) => message && recorder.receive(message.content), { noAck: true });
    return recorder;
  }

  private receive(content: Buffer): void {
    const envelope = JSON.parse(content.toString('utf8')) as Envelope;
    const list = this.events.get(envelope.data.transferId) ?? [];
    list.push({ eventId: envelope.eventId, type: envelope.type, at: Date.now(), error: envelope.data.error });
    this.events.set(envelope.data.transferId, list);
  }

  of(transferId: string): readonly RecordedEvent[] {
    return this.events.get(transferId) ?? [];
  }

  /**
   * The transfer's terminal events, one per event id (the first arrival): the outbox publishes an
   * event again when the broker's confirm was lost with its connection (at-least-once, the same
   * eventId; subscribers deduplicate by it, as the contract says). Two terminal events with
   * different ids are two terminal transitions, the duplicate the contract forbids.
   */
  terminal(transferId: string): RecordedEvent[] {
    const seen = new Set<string>();
    return this.of(transferId).filter((event) => {
      if (!(TERMINAL_EVENTS as readonly string[]).includes(event.type) || seen.has(event.eventId))
        return false;
      seen.add(event.eventId);
      return true;
    });
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
