import assert from 'node:assert';
import { Socket } from 'node:net';
import { isPausedParserAssertion, keepPausedParserAssertion } from './paused-parser-end';

/** undici's parser, as far as its assertion goes (its words: Node quotes the asserting source line). */
class Parser {
  paused = true;

  finish(): void {
    if (this.paused) {
      throw new assert.AssertionError({
        message: 'The expression evaluated to a falsy value:\n\n  assert(!this.paused)\n',
        actual: false,
        expected: true,
        operator: '==',
      });
    }
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('keepPausedParserAssertion', () => {
  it('recognises undici’s assertion and nothing else', () => {
    const parser = new Parser();
    let thrown: unknown;
    try {
      parser.finish();
    } catch (error) {
      thrown = error;
    }
    expect(isPausedParserAssertion(thrown)).toBe(true);
    expect(isPausedParserAssertion(new Error('assert(!this.paused)'))).toBe(false);
  });

  it('calls a listener stopped by it again until the parser goes on, the later listeners after it, in order', async () => {
    const socket = new Socket();
    keepPausedParserAssertion(socket);
    const parser = new Parser();
    const calls: string[] = [];
    socket.on('end', () => calls.push('end: first'));
    socket.on('end', () => {
      parser.finish();
      calls.push('end: undici');
    });
    socket.once('end', () => calls.push('end: last'));
    socket.on('close', () => {
      parser.finish();
      calls.push('close: undici');
    });
    expect(socket.emit('end')).toBe(true);
    socket.emit('close', false);
    expect(calls).toEqual(['end: first']);
    await wait(50);
    expect(calls).toEqual(['end: first']);
    parser.paused = false;
    await wait(50);
    expect(calls).toEqual(['end: first', 'end: undici', 'end: last', 'close: undici']);
    // the once listener ran once
    socket.emit('end');
    expect(calls.filter((call) => call === 'end: last')).toHaveLength(1);
  });

  it('gives up on a parser that never goes on (its reader stopped for good)', async () => {
    const socket = new Socket();
    keepPausedParserAssertion(socket, 50);
    const parser = new Parser();
    let tries = 0;
    socket.on('end', () => {
      tries += 1;
      parser.finish();
    });
    socket.emit('end');
    await wait(150);
    const triesWhenGivenUp = tries;
    expect(triesWhenGivenUp).toBeGreaterThan(1);
    await wait(100);
    expect(tries).toBe(triesWhenGivenUp);
  });

  it('lets any other error out of the event as before', () => {
    const socket = new Socket();
    keepPausedParserAssertion(socket);
    socket.on('end', () => {
      throw new Error('a bug of ours');
    });
    expect(() => socket.emit('end')).toThrow('a bug of ours');
  });
});
