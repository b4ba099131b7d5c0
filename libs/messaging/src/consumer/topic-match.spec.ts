import { topicMatches } from './topic-match';

describe('topicMatches (AMQP topic semantics)', () => {
  it.each([
    ['transfer.*', 'transfer.completed', true],
    ['transfer.*', 'transfer.progress.extra', false],
    ['transfer.*', 'transfer', false],
    ['dimse.#', 'dimse', true],
    ['dimse.#', 'dimse.transfer.export', true],
    ['dimse.#', 'dicomweb.transfer.export', false],
    ['#', 'anything.at.all', true],
    ['*.task.#', 'worklist.task.started', true],
    ['*.task.#', 'task.started', false],
    ['worklist.task.started', 'worklist.task.started', true],
    ['worklist.task.started', 'worklist.task.completed', false],
  ])('%s matches %s: %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});
