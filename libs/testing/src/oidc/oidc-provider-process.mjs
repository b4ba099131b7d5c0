// A real OpenID Provider (node-oidc-provider) for the tests, run as its own process (the package is
// ESM-only; the tests run as CommonJS under jest). It issues JWT access tokens by the client
// credentials grant, signed with the key the test passes in, so that the test can also sign tokens
// the provider never would (expired, not yet valid, another issuer) with the same key.
//
//   OIDC_TEST_JWK=<private JWK as JSON> OIDC_TEST_AUDIENCE=<aud> node oidc-provider-process.mjs
//
// Prints one JSON line {"issuer": "..."} once it listens on 127.0.0.1 (a free port).
// Clients (secret = "secret" for each): admin, operator, nobody (no role), brief (operator, 1 s tokens).
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const jwk = JSON.parse(process.env.OIDC_TEST_JWK);
const audience = process.env.OIDC_TEST_AUDIENCE;
const PEOPLE = {
  admin: { roles: ['admin'], name: 'Ada Admin' },
  operator: { roles: ['operator'], name: 'Otto Operator' },
  nobody: { roles: [], name: 'Nora Nobody' },
  brief: { roles: ['operator'], name: 'Bruno Brief' },
};

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    jwks: { keys: [jwk] },
    clients: Object.keys(PEOPLE).map((id) => ({
      client_id: id,
      client_secret: 'secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    })),
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => ({
          scope: 'api',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: client.clientId === 'brief' ? 1 : 600,
        }),
      },
    },
    extraTokenClaims: (_ctx, token) => PEOPLE[token.clientId],
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
