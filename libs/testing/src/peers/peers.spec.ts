import { parseKeyValueLines, peersFromEnv } from './peers';

const ENV = parseKeyValueLines(
  [
    '[test-peers] a log line that is not a value',
    'PEERS_DATA_DIR=/repo/tmp/peers',
    'ORTHANC_AET=ORTHANC',
    'ORTHANC_HOST=127.0.0.1',
    'ORTHANC_DICOM_PORT=4242',
    'ORTHANC_HTTP_URL=http://127.0.0.1:8042',
    'ORTHANC_DICOMWEB_URL=http://127.0.0.1:8042/dicom-web',
    'ORTHANC_USER=pacs',
    'ORTHANC_PASSWORD=a=b',
    'ORTHANC_WORKLIST_DIR=/repo/tmp/peers/orthanc/worklists',
    'STORESCP_AET=STORESCP',
    'STORESCP_PORT=11212',
    'STORESCP_DIR=/repo/tmp/peers/storescp',
    'WLM_AET=WLMSCP',
    'WLM_PORT=11214',
    'WLM_DIR=/repo/tmp/peers/wlmscpfs/WLMSCP',
    'MOVESCU_AET=MOVESCU',
    'MOVESCU_PORT=11213',
  ].join('\n'),
);

describe('peersFromEnv', () => {
  it('builds typed endpoints from the KEY=VALUE lines of test-peers.sh', () => {
    const peers = peersFromEnv(ENV);

    expect(peers.orthanc).toMatchObject({ aet: 'ORTHANC', host: '127.0.0.1', port: 4242, password: 'a=b' });
    expect(peers.storescp).toEqual({
      aet: 'STORESCP',
      host: '127.0.0.1',
      port: 11212,
      dir: '/repo/tmp/peers/storescp',
    });
    expect(peers.moveScu).toEqual({ aet: 'MOVESCU', host: '127.0.0.1', port: 11213 });
    expect(peers.pacslink).toEqual({ aet: 'PACSLINK', host: '127.0.0.1', port: 11112 });
    expect(ENV).not.toHaveProperty('[test-peers] a log line that is not a value');
  });

  it('names the missing variable and how to start the peers', () => {
    const env = { ...ENV };
    delete env.WLM_DIR;

    expect(() => peersFromEnv(env)).toThrow(
      'WLM_DIR is not set: run `npm run peers:start` (scripts/test-peers.sh) — needs Debian packages orthanc orthanc-dicomweb dcmtk python3-odil',
    );
    expect(() => peersFromEnv({ ...ENV, STORESCP_PORT: '11212x' })).toThrow(
      'STORESCP_PORT=11212x is not a TCP port',
    );
  });
});
