import { TransferEvents } from '@pacslink/contracts';
import { parseEnvelope, validateData } from './validate-envelope';

const valid = {
  transferId: '0b6f7f0c-4c1e-4d8e-9d55-7a1f0d2b9a11',
  direction: 'export',
  pacsConfigId: '5a0d9a39-2f8b-4f59-9a1e-1f4a3b6c7d8e',
  pacsAeTitle: 'ORTHANC',
  studyInstanceUid: '1.2.840.113619.2.55.3',
  status: 'running',
  progress: { total: 10, completed: 3, failed: 0, warning: 1 },
  method: 'C-STORE',
};

describe('parseEnvelope', () => {
  const body = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('reads a complete envelope', () => {
    const envelope = {
      eventId: 'e1',
      type: 'transfer.started',
      version: 1,
      occurredAt: '2026-01-01T00:00:00Z',
      data: {},
    };
    expect(parseEnvelope(body(envelope))).toEqual(envelope);
  });

  it.each([
    [Buffer.from('not json'), 'body is not JSON'],
    [body([1, 2]), 'envelope has no eventId'],
    [body('text'), 'body is not a JSON object'],
    [body({ eventId: 'e', version: 1, occurredAt: 'x', data: {} }), 'envelope has no type'],
    [body({ eventId: 'e', type: 't', occurredAt: 'x', data: {} }), 'envelope has no version'],
    [
      body({ eventId: 'e', type: 't', version: 1, occurredAt: 'x', data: null }),
      'envelope has no data object',
    ],
  ])('refuses %s with "%s"', (input, reason) => {
    expect(() => parseEnvelope(input)).toThrow(reason);
  });
});

describe('validateData against a contract', () => {
  it('accepts data that satisfies the contract', async () => {
    const result = await validateData(TransferEvents.Progress, valid);
    expect(result).toEqual({ data: expect.objectContaining({ transferId: valid.transferId }) as unknown });
  });

  it.each([
    [{ ...valid, direction: 'sideways' }, 'direction: direction must be one of the following values'],
    [
      { ...valid, studyInstanceUid: '1.2.abc' },
      'studyInstanceUid: studyInstanceUid is not a valid UID (PS3.5 9.1): it may hold only digits and periods (found U+0061)',
    ],
    [
      { ...valid, studyInstanceUid: `1.${'2'.repeat(70)}` },
      'studyInstanceUid: studyInstanceUid is not a valid UID (PS3.5 9.1): it is 72 characters long, more than 64',
    ],
    [{ ...valid, progress: undefined }, 'progress: progress must be an object'],
    [
      { ...valid, progress: { ...valid.progress, failed: -1 } },
      'progress.failed: failed must not be less than 0',
    ],
    [{ ...valid, patientName: 'Doe^John' }, 'patientName: property patientName should not exist'],
  ])('names what is wrong: %#', async (data, problem) => {
    const result = await validateData(TransferEvents.Progress, data);
    expect('problems' in result && result.problems.join('\n')).toContain(problem);
  });
});
