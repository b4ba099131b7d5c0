import { MockAgent } from 'undici';
import { DicomwebErrorCode } from './dicomweb.errors';
import {
  clientSecretBasic,
  formUrlEncode,
  requestClientCredentialsToken,
  tokenRequestBody,
} from './oauth2-client-credentials';
import type { ClientCredentialsGrant } from './oauth2-token-cache';

const GRANT: ClientCredentialsGrant = {
  tokenUrl: new URL('https://idp.example/oauth2/token'),
  clientId: 'pacs link',
  clientSecret: 'a+b:c/d%é',
  scope: 'dicomweb.read dicomweb.write',
  clientAuthentication: 'client_secret_basic',
  timeoutMs: 2_000,
};

describe('client_secret_basic (RFC 6749 2.3.1)', () => {
  it('form-urlencodes id and secret before Basic', () => {
    expect(formUrlEncode('a+b:c/d%é ~*')).toBe('a%2Bb%3Ac%2Fd%25%C3%A9+%7E*');
    const header = clientSecretBasic(GRANT.clientId, GRANT.clientSecret);
    expect(Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8')).toBe(
      'pacs+link:a%2Bb%3Ac%2Fd%25%C3%A9',
    );
  });

  it('sends grant_type and scope in the body, and the credentials only with client_secret_post', () => {
    expect(tokenRequestBody(GRANT)).toBe('grant_type=client_credentials&scope=dicomweb.read+dicomweb.write');
    const post = new URLSearchParams(
      tokenRequestBody({ ...GRANT, clientAuthentication: 'client_secret_post', scope: undefined }),
    );
    expect([...post]).toEqual([
      ['grant_type', 'client_credentials'],
      ['client_id', GRANT.clientId],
      ['client_secret', GRANT.clientSecret],
    ]);
  });
});

describe('requestClientCredentialsToken (token endpoint double: undici MockAgent, no sockets)', () => {
  let agent: MockAgent;

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
  });

  afterEach(async () => {
    await agent.close();
  });

  function answer(status: number, body: unknown, contentType = 'application/json') {
    agent
      .get('https://idp.example')
      .intercept({ path: '/oauth2/token', method: 'POST' })
      .reply(status, typeof body === 'string' ? body : JSON.stringify(body), {
        headers: { 'content-type': contentType },
      });
  }

  it('returns the access token and its lifetime (a numeric string is accepted too)', async () => {
    answer(200, { access_token: 'abc', token_type: 'Bearer', expires_in: '120' });
    await expect(requestClientCredentialsToken(GRANT, agent)).resolves.toEqual({
      accessToken: 'abc',
      expiresInSeconds: 120,
    });
  });

  it('reports an RFC 6749 5.2 error by its code', async () => {
    answer(401, { error: 'invalid_client', error_description: 'bad secret' });
    await expect(requestClientCredentialsToken(GRANT, agent)).rejects.toMatchObject({
      code: DicomwebErrorCode.TokenEndpointRejected,
      httpStatus: 401,
      message:
        'token endpoint https://idp.example/oauth2/token answered 401 invalid_client — check the client ID and secret',
    });
  });

  it('reports a non-JSON error answer by status and content', async () => {
    answer(404, '<html><title>Not here</title></html>', 'text/html');
    await expect(requestClientCredentialsToken(GRANT, agent)).rejects.toMatchObject({
      code: DicomwebErrorCode.TokenEndpointRejected,
      message:
        'token endpoint https://idp.example/oauth2/token answered HTTP 404 Not Found (text/html (an HTML page titled “Not here”): “<html><title>Not here</title></html>”)',
    });
  });

  it('refuses an answer without access_token, or with a token type other than Bearer', async () => {
    answer(200, { token_type: 'Bearer' });
    await expect(requestClientCredentialsToken(GRANT, agent)).rejects.toMatchObject({
      code: DicomwebErrorCode.TokenEndpointInvalidAnswer,
      message: 'token endpoint https://idp.example/oauth2/token answered without access_token',
    });
    answer(200, { access_token: 'x', token_type: 'mac' });
    await expect(requestClientCredentialsToken(GRANT, agent)).rejects.toMatchObject({
      message:
        'token endpoint https://idp.example/oauth2/token issued a "mac" token; only Bearer tokens are supported',
    });
    answer(200, 'ok', 'text/plain');
    await expect(requestClientCredentialsToken(GRANT, agent)).rejects.toMatchObject({
      code: DicomwebErrorCode.TokenEndpointInvalidAnswer,
      message:
        'token endpoint https://idp.example/oauth2/token answered HTTP 200 OK without a JSON token: text/plain: “ok”',
    });
  });

  it('never echoes the client secret', async () => {
    answer(400, `<html>you sent ${GRANT.clientSecret}</html>`, 'text/html');
    const error = (await requestClientCredentialsToken(GRANT, agent).catch(
      (caught: unknown) => caught,
    )) as Error;
    expect(error.message).toContain('you sent ***');
    expect(error.message).not.toContain(GRANT.clientSecret);
  });

  it('reports an unreachable token endpoint as such', async () => {
    agent
      .get('https://idp.example')
      .intercept({ path: '/oauth2/token', method: 'POST' })
      .replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND idp.example'), { code: 'ENOTFOUND' }));
    await expect(requestClientCredentialsToken(GRANT, agent)).rejects.toMatchObject({
      code: DicomwebErrorCode.TokenEndpointUnreachable,
      message:
        'token endpoint https://idp.example/oauth2/token unreachable: host idp.example not found (DNS)',
    });
  });
});
