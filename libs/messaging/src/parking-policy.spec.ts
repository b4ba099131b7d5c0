import { ConsumerQueues, UnroutableQueue, deadLetterQueueOf } from '@pacslink/contracts';
import { ParkingPolicy, ParkingQueues } from './parking-policy';

describe('ParkingPolicy', () => {
  const pattern = new RegExp(ParkingPolicy.pattern);
  const queues = Object.values(ConsumerQueues).map((queue) => queue.name);

  it('applies to pacslink.unroutable and the dead-letter queue of every queue of the product', () => {
    expect([...ParkingQueues].sort()).toEqual([UnroutableQueue, ...queues.map(deadLetterQueueOf)].sort());
    for (const name of ParkingQueues) expect(name).toMatch(pattern);
  });

  it('never bounds a work queue, whose overflow would refuse commands', () => {
    for (const name of queues) expect(name).not.toMatch(pattern);
  });

  it('refuses new messages when full instead of dropping the oldest', () => {
    expect(ParkingPolicy.definition.overflow).toBe('reject-publish');
  });
});
