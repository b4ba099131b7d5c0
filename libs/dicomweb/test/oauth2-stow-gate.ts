import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { closeServer, listenLocal } from './local-servers';

export interface OAuth2StowGate {
  /** DICOMweb base URL in front of Orthanc: `http://127.0.0.1:<port>/dicom-web`. */
  url: string;
  tokenUrl: string;
  issued: string[];
  /** Tokens refused from now on (401 after reading the whole body, as a server that checks late). */
  revoked: Set<string>;
  /** Bytes received per STOW-RS POST, refused ones included. */
  bodies: Array<{ token: string; bytes: number; status: number }>;
  close(): Promise<void>;
}

/**
 * An OAuth2 client-credentials token endpoint plus a gate that checks the bearer token and streams
 * an accepted STOW-RS request, body untouched, to the real Orthanc with its HTTP Basic credentials.
 * Orthanc parses, stores and answers; the gate only decides who may pass.
 */
export async function startOAuth2StowGate(orthanc: {
  dicomWebUrl: string;
  user: string;
  password: string;
}): Promise<OAuth2StowGate> {
  const target = new URL(orthanc.dicomWebUrl);
  const basic = `Basic ${Buffer.from(`${orthanc.user}:${orthanc.password}`).toString('base64')}`;
  const issued: string[] = [];
  const revoked = new Set<string>();
  const bodies: OAuth2StowGate['bodies'] = [];

  const refuse = async (incoming: IncomingMessage, outgoing: ServerResponse, token: string) => {
    let bytes = 0;
    for await (const chunk of incoming) bytes += (chunk as Buffer).length;
    bodies.push({ token, bytes, status: 401 });
    outgoing.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
  };

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, token: string) => {
    let bytes = 0;
    incoming.on('data', (chunk: Buffer) => (bytes += chunk.length));
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: `${target.pathname}${(incoming.url ?? '').replace(/^\/dicom-web/, '')}`,
        headers: {
          authorization: basic,
          accept: incoming.headers.accept ?? 'application/dicom+json',
          'content-type': incoming.headers['content-type'] ?? '',
          'content-length': incoming.headers['content-length'] ?? '0',
        },
      },
      (answer) => {
        bodies.push({ token, bytes, status: answer.statusCode ?? 0 });
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        void pipeline(answer, outgoing).catch(() => outgoing.destroy());
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  };

  const server = createServer((incoming, outgoing) => {
    if (incoming.url === '/token') {
      incoming.resume();
      const token = `gate-token-${issued.length + 1}`;
      issued.push(token);
      outgoing
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
      return;
    }
    const token = /^Bearer (.+)$/.exec(incoming.headers.authorization ?? '')?.[1] ?? '';
    if (!issued.includes(token) || revoked.has(token)) {
      void refuse(incoming, outgoing, token).catch(() => outgoing.destroy());
      return;
    }
    forward(incoming, outgoing, token);
  });
  const port = await listenLocal(server);
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/dicom-web`,
    tokenUrl: `${origin}/token`,
    issued,
    revoked,
    bodies,
    close: () => closeServer(server),
  };
}
