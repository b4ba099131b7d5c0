import {
  EgressPolicy,
  normalizedAddress,
  parseAddress,
  parseCidrList,
  type CheckContext,
  type IpAddress,
  type ResolvedDeniedEndpoint,
} from './egress-policy';

function address(text: string): IpAddress {
  const parsed = parseAddress(text);
  if (parsed === undefined) throw new Error(`not an address: ${text}`);
  return parsed;
}

const HOST_INTERFACE = '10.1.2.3';

function context(denied: ResolvedDeniedEndpoint[] = [], hostname = 'pacs.test'): CheckContext {
  return {
    hostname,
    denied,
    isLocal: (candidate) =>
      ['loopback', 'unspecified'].includes(candidate.range()) ||
      normalizedAddress(candidate) === normalizedAddress(address(HOST_INTERFACE)),
  };
}

function endpoint(
  host: string,
  port: number,
  kind: ResolvedDeniedEndpoint['kind'],
  addresses: string[],
  local: boolean,
): ResolvedDeniedEndpoint {
  return { host, port, kind, addresses: new Set(addresses.map((a) => normalizedAddress(address(a)))), local };
}

const everything = new EgressPolicy(parseCidrList('0.0.0.0/0,::/0'), []);

describe('EgressPolicy', () => {
  it('allows only what EGRESS_ALLOW_CIDRS lists: 127.0.0.1 is refused when 127.0.0.2/32 is allowed', () => {
    const policy = new EgressPolicy(parseCidrList('127.0.0.2/32, 2001:db8:20::/48'), []);
    expect(policy.refusal(address('127.0.0.2'), 104, context())).toBeUndefined();
    expect(policy.refusal(address('127.0.0.1'), 104, context())).toBe('not-allowed');
    expect(policy.refusal(address('::1'), 104, context())).toBe('not-allowed');
    expect(policy.refusal(address('2001:db8:20::7'), 443, context())).toBeUndefined();
    expect(policy.refusal(address('2001:db8:21::7'), 443, context())).toBe('not-allowed');
  });

  it('takes an IPv4-mapped IPv6 address as the IPv4 address it is', () => {
    const policy = new EgressPolicy(parseCidrList('10.20.0.0/16'), []);
    expect(policy.refusal(address('::ffff:10.20.1.1'), 104, context())).toBeUndefined();
    expect(policy.refusal(address('::ffff:10.21.1.1'), 104, context())).toBe('not-allowed');
  });

  it.each([
    '169.254.169.254',
    '169.254.0.1',
    'fe80::1',
    'fe80::1%eth0',
    'fd00:ec2::254',
    '100.100.100.200',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:100.100.100.200',
    '::ffff:0:169.254.169.254',
    '64:ff9b::169.254.169.254',
  ])('never allows the link-local or metadata address %s, even under 0.0.0.0/0 and ::/0', (text) => {
    expect(everything.refusal(address(text), 80, context())).toBe('link-local-or-metadata');
    expect(new EgressPolicy('any', []).refusal(address(text), 80, context())).toBe('link-local-or-metadata');
  });

  it('allows the range around a metadata address, not the address itself', () => {
    expect(everything.refusal(address('100.100.100.201'), 80, context())).toBeUndefined();
    expect(everything.refusal(address('fd00:ec2::253'), 80, context())).toBeUndefined();
  });

  it.each([
    '0.0.0.0',
    '0.1.2.3',
    '::',
    '224.0.0.1',
    '239.1.2.3',
    'ff02::1',
    '255.255.255.255',
    '::ffff:0.0.0.0',
  ])('never allows %s (unspecified, multicast or broadcast)', (text) => {
    expect(everything.refusal(address(text), 104, context())).toBe('not-unicast');
  });

  it("refuses pacslink's own broker and database at their ports, even when a CIDR allows them", () => {
    const denied = [
      endpoint('127.0.0.1', 5672, 'broker', ['127.0.0.1'], true),
      endpoint('127.0.0.1', 5432, 'database', ['127.0.0.1'], true),
    ];
    const policy = new EgressPolicy(parseCidrList('127.0.0.0/8'), denied);
    expect(policy.refusal(address('127.0.0.1'), 5672, context(denied))).toBe('own-broker');
    expect(policy.refusal(address('127.0.0.1'), 5432, context(denied))).toBe('own-database');
    expect(policy.refusal(address('::ffff:127.0.0.1'), 5672, context(denied))).toBe('own-broker');
    expect(policy.refusal(address('127.0.0.1'), 4242, context(denied))).toBeUndefined();
  });

  it('refuses the port of an endpoint on this machine at every address of this machine', () => {
    const denied = [endpoint('localhost', 5672, 'broker', ['127.0.0.1', '::1'], true)];
    const policy = new EgressPolicy('any', denied);
    for (const text of ['127.0.0.2', '::1', HOST_INTERFACE, '::ffff:127.1.1.1']) {
      expect(policy.refusal(address(text), 5672, context(denied))).toBe('own-broker');
    }
    expect(policy.refusal(address('10.9.9.9'), 5672, context(denied))).toBeUndefined();
  });

  it('refuses a remote own endpoint at its own addresses and by its name only', () => {
    const denied = [endpoint('postgres.internal', 5432, 'service', ['10.0.0.9'], false)];
    const policy = new EgressPolicy(parseCidrList('10.0.0.0/8'), denied);
    expect(policy.refusal(address('10.0.0.9'), 5432, context(denied))).toBe('own-service');
    expect(policy.refusal(address('10.0.0.10'), 5432, context(denied, 'postgres.internal'))).toBe(
      'own-service',
    );
    expect(policy.refusal(address('10.0.0.10'), 5432, context(denied))).toBeUndefined();
    expect(policy.refusal(address('127.0.0.1'), 5432, context(denied))).toBe('not-allowed');
  });

  it('allows any unicast address, loopback included, when the allow list is "any" (development)', () => {
    const policy = new EgressPolicy('any', []);
    for (const text of ['127.0.0.1', '::1', '10.0.0.1', '2001:db8::1']) {
      expect(policy.refusal(address(text), 104, context())).toBeUndefined();
    }
  });
});

describe('parseCidrList', () => {
  it('reads ranges and bare addresses, IPv4 and IPv6', () => {
    const ranges = parseCidrList(' 10.0.0.0/8 ,192.168.1.7, 2001:db8::/32,::ffff:172.16.0.0/108 ');
    expect(ranges.map(([network, bits]) => `${network.toString()}/${bits}`)).toEqual([
      '10.0.0.0/8',
      '192.168.1.7/32',
      '2001:db8::/32',
      '172.16.0.0/12',
    ]);
  });

  it.each([
    ['10.0.0.0/33', '"10.0.0.0/33" is not a CIDR range'],
    ['pacs.example', '"pacs.example" is not a CIDR range'],
    ['10.0.0.0/8,,nonsense', '"nonsense"'],
    [' , ', 'lists no range'],
  ])('refuses %j naming the entry', (text, message) => {
    expect(() => parseCidrList(text)).toThrow(message);
  });
});
