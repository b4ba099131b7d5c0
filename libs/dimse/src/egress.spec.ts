import type { LookupAddress } from 'node:dns';
import { Socket } from 'node:net';
import { EgressGuard, EgressPolicy, parseCidrList } from '@pacslink/egress';
import { DimseError, DimseErrorCode } from './dimse.errors';
import type { DimseConnectionOptions } from './dimse.options';
import { echo } from './operations/echo.operation';
import { find } from './operations/find.operation';
import { store } from './operations/store.operation';

// Link-local and metadata peers are refused before any socket exists, for C-ECHO, C-FIND and
// C-STORE alike (all on our own upper layer): Socket#connect is replaced by a tripwire, so no
// packet can leave even if the check were missing.

const NAMES: Record<string, LookupAddress[]> = {
  'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  'link.test': [{ address: 'fe80::1', family: 6 }],
};

const egress = new EgressGuard(new EgressPolicy(parseCidrList('0.0.0.0/0,::/0'), []), {
  resolver: (hostname) => Promise.resolve(NAMES[hostname] ?? []),
  localAddresses: () => [],
});

function options(host: string): DimseConnectionOptions {
  return {
    host,
    port: 104,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: 'PACS',
    connectTimeoutMs: 2_000,
    associationTimeoutMs: 2_000,
    pduTimeoutMs: 2_000,
    egress,
  };
}

const INSTANCE = {
  path: '/nonexistent/instance.dcm',
  sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
  sopInstanceUid: '1.2.826.0.1.3680043.8.498.1',
  transferSyntaxUid: '1.2.840.10008.1.2.1',
};

const operations = {
  'C-ECHO': (host: string) => echo(options(host)),
  'C-FIND': (host: string) => find(options(host), { level: 'STUDY', keys: {}, returnKeys: [] }),
  'C-STORE': (host: string) => store(options(host), [INSTANCE]),
};

let connects: jest.SpyInstance;

beforeEach(() => {
  connects = jest.spyOn(Socket.prototype, 'connect').mockImplementation(() => {
    throw new Error('tripwire: a socket was connected');
  });
});

afterEach(() => connects.mockRestore());

const NEVER =
  'is a link-local or cloud metadata address: link-local and metadata addresses are never allowed';

describe.each(Object.keys(operations) as Array<keyof typeof operations>)(
  'egress: %s to link-local and metadata addresses is refused before any connect',
  (command) => {
    it.each([
      ['169.254.169.254', '169.254.169.254:104 (169.254.169.254)'],
      ['::ffff:169.254.169.254', '[::ffff:169.254.169.254]:104 (::ffff:169.254.169.254)'],
      ['fd00:ec2::254', '[fd00:ec2::254]:104 (fd00:ec2::254)'],
      ['100.100.100.200', '100.100.100.200:104 (100.100.100.200)'],
      ['metadata.test', 'metadata.test:104 (169.254.169.254)'],
      ['link.test', 'link.test:104 (fe80::1)'],
    ])('%s', async (host, destination) => {
      const error = await operations[command](host).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(DimseError);
      expect(error).toMatchObject({
        code: DimseErrorCode.EGRESS_REFUSED,
        message: `${destination} ${NEVER}`,
      });
      expect(connects).not.toHaveBeenCalled();
    });
  },
);
