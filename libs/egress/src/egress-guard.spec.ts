import type { LookupAddress } from 'node:dns';
import { EgressGuard, pinnedLookup, type Resolver } from './egress-guard';
import { EGRESS_REFUSED, EgressRefusedError } from './egress.errors';
import { EgressPolicy, parseCidrList, type DeniedEndpoint } from './egress-policy';

function v4(address: string): LookupAddress {
  return { address, family: 4 };
}

/** A resolver from a table, counting its calls; nothing goes to a name server. Names compare as DNS does. */
function table(entries: Record<string, LookupAddress[][]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    const answers = entries[hostname.toLowerCase().replace(/\.$/, '')];
    if (answers === undefined || answers.length === 0) {
      return Promise.reject(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
      );
    }
    // Each call takes the next answer; the last one repeats.
    return Promise.resolve(answers.length > 1 ? (answers.shift() ?? []) : answers[0]);
  };
  return Object.assign(resolver, { calls });
}

function guard(
  allow: string,
  resolver: Resolver,
  deny: DeniedEndpoint[] = [],
  localAddresses: string[] = ['127.0.0.1', '::1'],
): EgressGuard {
  const policy = new EgressPolicy(allow === 'any' ? 'any' : parseCidrList(allow), deny);
  return new EgressGuard(policy, { resolver, localAddresses: () => localAddresses });
}

describe('EgressGuard', () => {
  it('refuses a name that resolves to the metadata address, naming name, port and address', async () => {
    const resolver = table({ 'metadata.test': [[v4('169.254.169.254')]] });
    const refused = guard('0.0.0.0/0', resolver).resolve('metadata.test', 80);
    await expect(refused).rejects.toBeInstanceOf(EgressRefusedError);
    await expect(refused).rejects.toMatchObject({
      code: EGRESS_REFUSED,
      refusal: 'link-local-or-metadata',
      message:
        'metadata.test:80 (169.254.169.254) is a link-local or cloud metadata address: link-local and metadata addresses are never allowed',
    });
  });

  it('checks an address literal without asking the resolver', async () => {
    const resolver = table({});
    const gate = guard('127.0.0.2/32', resolver);
    await expect(gate.resolve('127.0.0.1', 104)).rejects.toThrow(
      '127.0.0.1:104 (127.0.0.1) is not an allowed PACS address (EGRESS_ALLOW_CIDRS)',
    );
    await expect(gate.resolve('[::ffff:169.254.169.254]', 80)).rejects.toMatchObject({
      refusal: 'link-local-or-metadata',
    });
    await expect(gate.resolve('127.0.0.2', 104)).resolves.toEqual([v4('127.0.0.2')]);
    expect(resolver.calls).toEqual([]);
  });

  it('answers only the allowed addresses of a name that also resolves to forbidden ones', async () => {
    const resolver = table({ 'pacs.test': [[v4('169.254.169.254'), v4('10.0.0.5'), v4('192.168.0.5')]] });
    await expect(guard('10.0.0.0/8', resolver).resolve('pacs.test', 104)).resolves.toEqual([v4('10.0.0.5')]);
  });

  it('DNS rebinding: each resolution is checked, the second answer (forbidden) is refused', async () => {
    const resolver = table({ 'rebind.test': [[v4('10.0.0.5')], [v4('169.254.169.254')]] });
    const gate = guard('10.0.0.0/8', resolver);
    await expect(gate.resolve('rebind.test', 80)).resolves.toEqual([v4('10.0.0.5')]);
    await expect(gate.resolve('rebind.test', 80)).rejects.toMatchObject({
      refusal: 'link-local-or-metadata',
    });
  });

  it('refuses the broker and database by what their names resolve to, at their ports only', async () => {
    const resolver = table({
      'rabbitmq.internal': [[v4('10.0.0.9')]],
      'postgres.internal': [[v4('10.0.0.8')]],
      'sneaky.test': [[v4('10.0.0.9')]],
    });
    const gate = guard('10.0.0.0/8', resolver, [
      { host: 'rabbitmq.internal', port: 5672, kind: 'broker' },
      { host: 'postgres.internal', port: 5432, kind: 'database' },
    ]);
    await expect(gate.resolve('sneaky.test', 5672)).rejects.toThrow(
      "sneaky.test:5672 (10.0.0.9) is pacslink's own broker (AMQP_URL): never allowed as a PACS",
    );
    await expect(gate.resolve('10.0.0.8', 5432)).rejects.toMatchObject({ refusal: 'own-database' });
    await expect(gate.resolve('POSTGRES.internal.', 5432)).rejects.toMatchObject({ refusal: 'own-database' });
    await expect(gate.resolve('sneaky.test', 104)).resolves.toEqual([v4('10.0.0.9')]);
  });

  it("refuses a local broker's port at this machine's other addresses", async () => {
    const gate = guard(
      'any',
      table({}),
      [{ host: '127.0.0.1', port: 5672, kind: 'broker' }],
      ['127.0.0.1', '192.168.7.7'],
    );
    await expect(gate.resolve('127.0.0.53', 5672)).rejects.toMatchObject({ refusal: 'own-broker' });
    await expect(gate.resolve('192.168.7.7', 5672)).rejects.toMatchObject({ refusal: 'own-broker' });
    await expect(gate.resolve('192.168.7.8', 5672)).resolves.toHaveLength(1);
  });

  it("passes the resolver's own failure on (ENOTFOUND)", async () => {
    await expect(guard('any', table({})).resolve('nowhere.test', 80)).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });
});

describe('pinnedLookup', () => {
  const addresses = [v4('10.0.0.5'), { address: '2001:db8::5', family: 6 }];

  function ask(options: Parameters<ReturnType<typeof pinnedLookup>>[1]): Promise<unknown[]> {
    return new Promise((resolve) =>
      pinnedLookup(addresses)('pacs.test', options, (...answer: unknown[]) => resolve(answer)),
    );
  }

  it('answers the checked addresses only, as one or all, by family', async () => {
    await expect(ask({})).resolves.toEqual([null, '10.0.0.5', 4]);
    await expect(ask({ all: true })).resolves.toEqual([null, addresses]);
    await expect(ask({ family: 6 })).resolves.toEqual([null, '2001:db8::5', 6]);
    const [error] = await new Promise<unknown[]>((resolve) =>
      pinnedLookup([v4('10.0.0.5')])('pacs.test', { family: 6 }, (...answer: unknown[]) => resolve(answer)),
    );
    expect(error).toMatchObject({ code: 'ENOTFOUND' });
  });
});
