/**
 * How many characters of a peer's own words a message quotes. A DIMSE ErrorComment is LO, at most
 * 64 characters (PS3.5 6.2), but a PACS may send more, and an HTTP body is anything: a bound keeps
 * every reason far inside what a worker's report may carry (1024 characters per instance).
 */
export const PEER_TEXT_MAX_CHARACTERS = 256;

const OPEN = '\u201c';
const CLOSE = '\u201d';
const QUOTED = new RegExp(`${OPEN}[^${CLOSE}]*${CLOSE}`, 'g');
/** Control and format characters (bidi overrides, zero-width) and whitespace runs: one space each. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]+/gu;

/**
 * Quotes text a peer wrote (a PACS's ErrorComment, a web server's body or page title) for one of
 * our messages: on one line, at most `max` characters (… marks a cut), between “ and ”. The marks
 * show a reader where the peer's words begin and end, and let elidePeerText() take them out of a
 * log line; marks inside the text become plain quotes so that a peer cannot close the quote early.
 */
export function quotePeerText(text: string, max = PEER_TEXT_MAX_CHARACTERS): string {
  const flat = text
    .replace(UNPRINTABLE, ' ')
    .replace(new RegExp(`[${OPEN}${CLOSE}]`, 'g'), '"')
    .trim();
  // By code point, so that a cut never splits a surrogate pair.
  const characters = [...flat];
  const bounded = characters.length > max ? `${characters.slice(0, max).join('').trimEnd()}…` : flat;
  return `${OPEN}${bounded}${CLOSE}`;
}

/** What a log line shows in place of a quoted peer text. */
export const ELIDED_PEER_TEXT = `${OPEN}[the PACS's words, not logged here]${CLOSE}`;

/**
 * A message with every peer text quoted by quotePeerText() taken out: for the logs of a process
 * that does not know whose study it handles and so cannot mask a patient's name in them.
 */
export function elidePeerText(message: string): string {
  return message.replace(QUOTED, ELIDED_PEER_TEXT);
}
