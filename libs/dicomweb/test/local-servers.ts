import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Listens on 127.0.0.1 on a free port; resolves to the port. */
export async function listenLocal(server: HttpServer | HttpsServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and every connection it holds, including requests it never answered. */
export async function closeServer(server: HttpServer | HttpsServer): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port on 127.0.0.1 where nothing listens (bound once, then released). */
export async function refusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export interface Certificate {
  key: string;
  cert: string;
}

/** `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1` plus any extra args. */
export async function selfSignedCertificate(
  dir: string,
  name: string,
  extra: string[] = [],
): Promise<Certificate> {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  await run('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1'],
    ...['-keyout', keyFile, '-out', certFile, ...extra],
  ]);
  return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
}

/**
 * A self-signed certificate valid only on 1-2 January 2020: `openssl req -days` takes no past
 * dates, `openssl ca -selfsign` does (-startdate/-enddate).
 */
export async function expiredCertificate(dir: string): Promise<Certificate> {
  const keyFile = join(dir, 'expired.key');
  const csrFile = join(dir, 'expired.csr');
  const certFile = join(dir, 'expired.pem');
  const config = join(dir, 'ca.cnf');
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '01\n');
  await writeFile(
    config,
    [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      `database = ${join(dir, 'index.txt')}`,
      `new_certs_dir = ${dir}`,
      `serial = ${join(dir, 'serial')}`,
      'default_md = sha256',
      'policy = any_name',
      '[ any_name ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  await run('openssl', [
    ...['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost'],
    ...['-keyout', keyFile, '-out', csrFile],
  ]);
  await run('openssl', [
    ...['ca', '-batch', '-notext', '-config', config, '-selfsign', '-keyfile', keyFile, '-in', csrFile],
    ...['-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-out', certFile],
  ]);
  return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
}
