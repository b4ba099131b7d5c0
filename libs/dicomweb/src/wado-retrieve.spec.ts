import { retrieveAcceptHeader } from './wado-retrieve';

describe('retrieveAcceptHeader', () => {
  it('asks for each transfer syntax in order with falling q, then the server’s own (*) last', () => {
    expect(retrieveAcceptHeader(['1.2.840.10008.1.2.1', '1.2.840.10008.1.2', '1.2.840.10008.1.2.4.50'])).toBe(
      [
        'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1',
        'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2;q=0.750',
        'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50;q=0.500',
        'multipart/related; type="application/dicom"; transfer-syntax=*;q=0.250',
      ].join(', '),
    );
  });

  it('asks for * alone when the caller names no syntax', () => {
    expect(retrieveAcceptHeader([])).toBe(
      'multipart/related; type="application/dicom"; transfer-syntax=*;q=1.000',
    );
  });
});
