import { ELIDED_PEER_TEXT, PEER_TEXT_MAX_CHARACTERS, elidePeerText, quotePeerText } from './peer-text';

describe('quotePeerText', () => {
  it('quotes the text on one line', () => {
    expect(quotePeerText('  disk\r\n full\t(volume 2) ')).toBe('“disk full (volume 2)”');
  });

  it('keeps at most the bound, marking the cut', () => {
    const quoted = quotePeerText('x'.repeat(5_000));
    expect(quoted).toBe(`“${'x'.repeat(PEER_TEXT_MAX_CHARACTERS)}…”`);
    expect(quotePeerText('abcdef', 3)).toBe('“abc…”');
    expect(quotePeerText('abc', 3)).toBe('“abc”');
  });

  it('counts characters, not UTF-16 units, and never splits one', () => {
    expect(quotePeerText('😀😀😀', 2)).toBe('“😀😀…”');
  });

  it('takes out control and format characters (a bidi override cannot reorder a log line)', () => {
    expect(quotePeerText('a\u202eb\u0000c\u200bd')).toBe('“a b c d”');
  });

  it('turns quote marks inside the text into plain ones, so the quote cannot be closed early', () => {
    expect(quotePeerText('say “hi” to DOE')).toBe('“say "hi" to DOE”');
  });
});

describe('elidePeerText', () => {
  it('takes every quoted peer text out of a message, and leaves our words', () => {
    const message = `0xA700 (out of resources): ${quotePeerText('no space for DOE^JOHN')}; again ${quotePeerText('x')}`;
    expect(elidePeerText(message)).toBe(
      `0xA700 (out of resources): ${ELIDED_PEER_TEXT}; again ${ELIDED_PEER_TEXT}`,
    );
    expect(elidePeerText('connection refused by pacs:104')).toBe('connection refused by pacs:104');
  });
});
