import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { closeServer, listenLocal } from './local-servers';

export interface SinglePartStowAdapter {
  /** DICOMweb base URL (`http://127.0.0.1:<port>/dicom-web`) that takes single application/dicom POSTs. */
  url: string;
  /** Content-Type headers of every POST received, in order. */
  contentTypes: string[];
  close(): Promise<void>;
}

/**
 * Orthanc 1.10 with DICOMweb plugin 1.7 answers 415 to a single `application/dicom` STOW-RS body
 * (PS3.18 10.5.1 allows it). This adapter takes exactly that, wraps the bytes untouched into one
 * multipart/related part and streams it on to the real Orthanc, whose answer comes back as it is:
 * Orthanc still parses, stores and judges every instance. Anything but application/dicom gets 415.
 */
export async function startSinglePartStowAdapter(orthancDicomWebUrl: string): Promise<SinglePartStowAdapter> {
  const target = new URL(orthancDicomWebUrl);
  const contentTypes: string[] = [];
  const server: Server = createServer((incoming: IncomingMessage, outgoing) => {
    const type = incoming.headers['content-type'] ?? '';
    contentTypes.push(type);
    const length = Number(incoming.headers['content-length']);
    if (incoming.method !== 'POST' || type !== 'application/dicom' || !Number.isSafeInteger(length)) {
      incoming.resume();
      outgoing.writeHead(415).end();
      return;
    }
    const boundary = randomBytes(12).toString('hex');
    const head = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const path = `${target.pathname}${(incoming.url ?? '').replace(/^\/dicom-web/, '')}`;
    const forward = request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path,
        headers: {
          ...(incoming.headers.authorization ? { authorization: incoming.headers.authorization } : {}),
          accept: incoming.headers.accept ?? 'application/dicom+json',
          'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          'content-length': String(head.length + length + tail.length),
        },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        void pipeline(answer, outgoing).catch(() => outgoing.destroy());
      },
    );
    forward.on('error', () => outgoing.destroy());
    forward.write(head);
    incoming.pipe(forward, { end: false });
    incoming.on('end', () => forward.end(tail));
  });
  const port = await listenLocal(server);
  return {
    url: `http://127.0.0.1:${port}/dicom-web`,
    contentTypes,
    close: () => closeServer(server),
  };
}
