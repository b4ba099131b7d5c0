import {
  describeAbort,
  describeAssociateReject,
  describePresentationContextResult,
  describeRejectReason,
  rejectHint,
} from './association-reject';

describe('A-ASSOCIATE-RJ decoding (PS3.8 9.3.4, Table 9-21)', () => {
  it.each([
    [1, 1, 1, 'association rejected permanently by the called AE (service user): no reason given'],
    [
      1,
      1,
      2,
      'association rejected permanently by the called AE (service user): application context name not supported',
    ],
    [
      1,
      1,
      3,
      'association rejected permanently by the called AE (service user): calling AE title not recognized',
    ],
    [
      1,
      1,
      7,
      'association rejected permanently by the called AE (service user): called AE title not recognized',
    ],
    [2, 1, 1, 'association rejected transiently by the called AE (service user): no reason given'],
    [
      1,
      2,
      1,
      "association rejected permanently by the peer's DICOM upper layer (service provider, ACSE): no reason given",
    ],
    [
      1,
      2,
      2,
      "association rejected permanently by the peer's DICOM upper layer (service provider, ACSE): protocol version not supported",
    ],
    [
      2,
      3,
      1,
      "association rejected transiently by the peer's DICOM upper layer (service provider, presentation): temporary congestion",
    ],
    [
      2,
      3,
      2,
      "association rejected transiently by the peer's DICOM upper layer (service provider, presentation): local limit exceeded",
    ],
  ])('result %i, source %i, reason %i', (result, source, reason, text) => {
    expect(describeAssociateReject({ result, source, reason })).toBe(text);
  });

  it('reasons are numbered per source: 2 means different things', () => {
    expect(describeRejectReason(1, 2)).toBe('application context name not supported');
    expect(describeRejectReason(2, 2)).toBe('protocol version not supported');
    expect(describeRejectReason(3, 2)).toBe('local limit exceeded');
  });

  it('names reserved and unknown codes instead of guessing', () => {
    expect(describeRejectReason(1, 5)).toBe('reserved reason code 5');
    expect(describeRejectReason(3, 0)).toBe('reserved reason code 0');
    expect(describeAssociateReject({ result: 9, source: 9, reason: 9 })).toBe(
      'association rejected with an unknown result (9) by an unknown source (9): reserved reason code 9',
    );
  });

  it('says what to do where the reason allows', () => {
    const titles = { callingAeTitle: 'PACSLINK', calledAeTitle: 'ORTHANC' };
    expect(rejectHint({ result: 1, source: 1, reason: 3 }, titles)).toContain(
      'register calling AE title PACSLINK',
    );
    expect(rejectHint({ result: 1, source: 1, reason: 7 }, titles)).toContain('AE title ORTHANC');
    expect(rejectHint({ result: 2, source: 3, reason: 1 }, titles)).toContain('try again later');
    expect(rejectHint({ result: 1, source: 1, reason: 1 }, titles)).toBeUndefined();
  });
});

describe('A-ABORT decoding (PS3.8 9.3.8, Table 9-26)', () => {
  it.each([
    [0, 0, 'association aborted by the peer (service user)'],
    [2, 0, 'association aborted by the peer (service provider: reason not specified)'],
    [2, 1, 'association aborted by the peer (service provider: unrecognized PDU)'],
    [2, 2, 'association aborted by the peer (service provider: unexpected PDU)'],
    [2, 4, 'association aborted by the peer (service provider: unrecognized PDU parameter)'],
    [2, 5, 'association aborted by the peer (service provider: unexpected PDU parameter)'],
    [2, 6, 'association aborted by the peer (service provider: invalid PDU parameter value)'],
    [1, 0, 'association aborted by the peer (reserved source 1)'],
  ])('source %i, reason %i', (source, reason, text) => {
    expect(describeAbort({ source, reason })).toBe(text);
  });
});

describe('presentation context result (PS3.8 Table 9-18)', () => {
  it.each([
    [0, 'accepted'],
    [1, 'user rejection'],
    [2, 'no reason'],
    [3, 'abstract syntax not supported'],
    [4, 'transfer syntaxes not supported'],
    [undefined, 'not answered in the association accept'],
  ])('%s', (result, text) => {
    expect(describePresentationContextResult(result)).toBe(text);
  });
});
