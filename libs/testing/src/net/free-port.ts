import { createServer, type AddressInfo } from 'node:net';

/**
 * `count` distinct TCP ports on 127.0.0.1 that nothing listens on now: all bound at once (port 0,
 * the OS picks), read, then released. Another process may take one before the caller binds it;
 * the OS hands out ephemeral ports in turn, so that is rare on a test machine.
 */
export async function freePorts(count: number): Promise<number[]> {
  const probes = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    probes.map(
      (probe) =>
        new Promise<number>((resolve, reject) => {
          probe.once('error', reject);
          probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port));
        }),
    ),
  );
  await Promise.all(probes.map((probe) => new Promise<void>((resolve) => probe.close(() => resolve()))));
  return ports;
}

/** One free TCP port on 127.0.0.1 (see freePorts). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}
