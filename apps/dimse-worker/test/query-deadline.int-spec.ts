import { testEgressGuard } from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * The PS3.8 peer scripted by libs/dimse's tests: it sends matches as slowly as a test asks and
 * answers C-CANCEL, encoded without our codecs. Test code only. */
import {
  implicitIdentifier,
  startScriptedScp,
  type ScriptedScp,
} from '../../../libs/dimse/test/support/scripted-scp';
/* eslint-enable @nx/enforce-module-boundaries */
import { QueryService } from '../src/query/query.service';

// A query past its timeoutMs is answered with the deadline's error at once; the C-FIND behind it
// must not run on unobserved: it is cancelled (C-CANCEL) and the association released.
jest.setTimeout(30_000);

const C_FIND_RQ = 0x0020;
const C_CANCEL_RQ = 0x0fff;
const A_RELEASE_RQ = 0x05;

let scp: ScriptedScp | undefined;
let timer: NodeJS.Timeout | undefined;
afterEach(async () => {
  clearInterval(timer);
  await scp?.close();
});

it('a C-FIND past the deadline is cancelled with C-CANCEL and released, not left running', async () => {
  scp = await startScriptedScp({
    onCommand: (command, peer) => {
      if (command.commandField === C_CANCEL_RQ) {
        clearInterval(timer);
        peer.respond(
          { ...command, commandField: C_FIND_RQ, messageId: command.messageIdBeingRespondedTo ?? 0 },
          0xfe00,
        );
        return;
      }
      // a slow PACS: one match every 200 ms, each well within the PDU timeout, 100 in all
      let n = 0;
      timer = setInterval(() => {
        n++;
        peer.respond(
          command,
          0xff00,
          implicitIdentifier([
            [0x0008, 0x0052, Buffer.from('STUDY')],
            [0x0020, 0x000d, Buffer.from(`1.2.3.${n}`)],
          ]),
        );
        if (n === 100) {
          clearInterval(timer);
          peer.respond(command, 0x0000);
        }
      }, 200);
    },
  });
  const service = new QueryService(testEgressGuard());
  const timeoutMs = 1_000;
  const error = await service
    .query({
      host: '127.0.0.1',
      port: scp.port,
      callingAeTitle: 'PACSLINK',
      calledAeTitle: scp.aeTitle,
      timeoutMs,
      level: 'STUDY',
      keys: {},
      returnKeys: [],
      limit: 100,
      offset: 0,
    })
    .then(
      () => undefined,
      (caught: unknown) => caught,
    );
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(/^no complete C-FIND answer within 1000 ms/);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const log = scp.log;
  expect(log.commands.map((command) => command.commandField)).toEqual([C_FIND_RQ, C_CANCEL_RQ]);
  expect(log.pdus).toContain(A_RELEASE_RQ);
});
