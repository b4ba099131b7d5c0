import { SNIPPET_CHARACTERS, responseFacts } from './http-body';

const url = new URL('https://pacs.example/dicom-web/studies');
const facts = (body: string, contentType = 'text/plain') =>
  responseFacts(500, { 'content-type': contentType }, Buffer.from(body), ['s3cret'], url);

describe('responseFacts: what a message may quote of a body', () => {
  it("quotes the body's first characters as the server's words: one line, bounded, secrets out", () => {
    const { snippet } = facts(`error for DOE^JOHN\r\n\ttoken s3cret\n${'x'.repeat(10_000)}`);
    expect(snippet).toBe(`“error for DOE^JOHN token *** ${'x'.repeat(SNIPPET_CHARACTERS - 29)}…”`);
  });

  it('quotes nothing of an empty or blank body', () => {
    expect(facts('').snippet).toBe('');
    expect(facts(' \r\n ').snippet).toBe('');
  });

  it("quotes an HTML page's title, at most 80 characters", () => {
    const page = `<html><head><title>Sign in\n${'y'.repeat(500)}</title></head></html>`;
    expect(facts(page, 'text/html').htmlTitle).toBe(`“Sign in ${'y'.repeat(80 - 8)}…”`);
    expect(facts('<html><title> </title></html>', 'text/html').htmlTitle).toBe('');
    expect(facts('plain', 'text/plain').htmlTitle).toBeUndefined();
  });
});
