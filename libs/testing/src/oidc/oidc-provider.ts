import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export type OidcClient = 'admin' | 'operator' | 'nobody' | 'brief';

export interface TestOidcProvider {
  issuer: string;
  audience: string;
  /** An access token from the provider, by the client credentials grant (`resource` = another audience). */
  token(client: OidcClient, resource?: string): Promise<string>;
  /** A token signed with the provider's own key but with claims of the test's choosing. */
  sign(claims: JWTPayload, header?: { kid?: string; alg?: string }): Promise<string>;
  stop(): Promise<void>;
}

const KID = 'test-key-1';

/**
 * Starts node-oidc-provider (oidc-provider-process.mjs) as a process on a free loopback port, with a key
 * generated here, and answers once its issuer URL is known.
 */
export async function startOidcProvider(audience = 'https://pacslink.test/api'): Promise<TestOidcProvider> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const child = spawn(process.execPath, [join(__dirname, 'oidc-provider-process.mjs')], {
    env: { ...process.env, OIDC_TEST_JWK: JSON.stringify(jwk), OIDC_TEST_AUDIENCE: audience },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the OIDC provider did not start: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`the OIDC provider exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { issuer: string }).issuer);
    });
  });
  child.removeAllListeners('exit');
  return {
    issuer,
    audience,
    async token(client, resource) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${client}:secret`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: 'api',
          resource: resource ?? audience,
        }),
      });
      const body = (await response.json()) as { access_token?: string };
      if (!response.ok || !body.access_token)
        throw new Error(`the OIDC provider refused a token for ${client}: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async sign(claims, header = {}) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: header.alg ?? 'RS256', kid: header.kid ?? KID, typ: 'at+jwt' })
        .sign(privateKey);
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
