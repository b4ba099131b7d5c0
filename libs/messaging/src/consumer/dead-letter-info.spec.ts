import { DEAD_LETTER_REASON_HEADER, deadLetterInfoOf } from './dead-letter-info';

describe('deadLetterInfoOf', () => {
  it('counts the deliveries of a message the delivery limit dead-lettered, not its x-death count', () => {
    // The headers RabbitMQ 3.10 puts on a quorum queue's delivery_limit dead letter (limit 5).
    const headers = {
      'x-death': [{ count: 1, reason: 'delivery_limit', queue: 'pacslink.dimse-worker.commands' }],
      'x-delivery-count': 0,
      'x-first-death-reason': 'delivery_limit',
    };
    expect(deadLetterInfoOf(headers, 5)).toEqual({
      reason:
        "delivered 6 times from pacslink.dimse-worker.commands without being acknowledged (the queue's delivery limit is 5)",
      refused: false,
    });
  });

  it("tells a consumer's refusal (it can never succeed) from the broker dropping it", () => {
    const refusal = {
      [DEAD_LETTER_REASON_HEADER]: 'invalid dimse.export-batch: instances must contain at least 1 elements',
      'x-death': [{ count: 1, reason: 'rejected', queue: 'q' }],
    };
    expect(deadLetterInfoOf(refusal, 5)).toEqual({
      reason: 'invalid dimse.export-batch: instances must contain at least 1 elements',
      refused: true,
    });
    expect(deadLetterInfoOf({ 'x-death': [{ count: 3, reason: 'expired', queue: 'q' }] }, 5)).toEqual({
      reason: 'dead-lettered by the broker from q (expired)',
      refused: false,
    });
    expect(deadLetterInfoOf({}, 5)).toBeUndefined();
    expect(deadLetterInfoOf(undefined, 5)).toBeUndefined();
  });
});
