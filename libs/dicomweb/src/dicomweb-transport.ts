import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import type { EgressGuard } from '@pacslink/egress';
import type { ResolvedEndpoint } from './dicomweb-endpoint';
import type { DicomwebLogger } from './dicomweb-logger';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';
import { egressConnector } from './egress-connector';
import { connectionContext, networkFailure } from './failure-mapping';
import type { ClientCredentialsGrant, OAuth2TokenCache } from './oauth2-token-cache';

/** A request body that can be produced again: a 401 retry must resend it from the start. */
export type RequestBodyFactory = () => Dispatcher.DispatchOptions['body'];

export interface DicomwebRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers?: Readonly<Record<string, string>>;
  body?: RequestBodyFactory;
  signal?: AbortSignal;
  /** Fetch a new OAuth2 token for this request rather than reuse a cached one. */
  freshToken?: boolean;
}

/** A response body as a Node Readable (back-pressure, pipe into a file) with undici's `dump()`. */
export type ResponseBody = Readable & { dump(): Promise<void> };

export interface DicomwebResponse {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  /** Consume it, or call `dump()`, or the connection stays busy. */
  body: ResponseBody;
  url: URL;
  /** Secrets to scrub from anything this answer echoes (the endpoint's and the token sent). */
  secrets: readonly string[];
  /** Maps a failure while reading the body (reset, body timeout, abort) like one before it. */
  failure(error: unknown): DicomwebError;
}

/**
 * An undici Agent whose every connection goes through the egress guard (egress-connector.ts), whose
 * connect timeout (DNS + TCP + TLS handshake), headers timeout and body timeout are the endpoint's
 * `timeoutMs`; extra CAs are added to Node's roots, not put in their place. Redirects are never
 * followed (undici's default, stated here so that no later option turns it on): a 3xx is an answer,
 * and neither a request nor its credentials go to where it points.
 */
export function createAgent(egress: EgressGuard, timeoutMs: number, ca?: readonly string[]): Agent {
  return new Agent({
    connect: egressConnector(egress, {
      timeout: timeoutMs,
      ...(ca === undefined ? {} : { ca: [...rootCertificates, ...ca] }),
    }),
    maxRedirections: 0,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 4_000,
  });
}

/** Pooled Agents, one per (timeout, TLS trust): connections are reused across requests of a kind. */
export class DispatcherPool {
  private readonly agents = new Map<string, Agent>();

  constructor(
    private readonly egress: EgressGuard,
    private readonly maxAgents = 32,
  ) {}

  get(timeoutMs: number, tlsKey: string, ca?: readonly string[]): Agent {
    const key = `${timeoutMs}|${tlsKey}`;
    const existing = this.agents.get(key);
    if (existing) return existing;
    const agent = createAgent(this.egress, timeoutMs, ca);
    this.agents.set(key, agent);
    for (const [oldKey, old] of this.agents) {
      if (this.agents.size <= this.maxAgents) break;
      this.agents.delete(oldKey);
      // Graceful: requests in flight on it finish; nothing waits on the promise.
      old.close().catch(() => undefined);
    }
    return agent;
  }

  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((agent) => agent.destroy()));
  }
}

export interface TransportDependencies {
  tokens: OAuth2TokenCache;
  logger?: DicomwebLogger;
}

const USER_AGENT = 'pacslink-dicomweb';

export function grantOf(endpoint: ResolvedEndpoint): ClientCredentialsGrant | undefined {
  const { auth, tokenUrl } = endpoint;
  if (auth.method !== 'oauth2-client-credentials' || tokenUrl === undefined) return undefined;
  return {
    tokenUrl,
    clientId: auth.clientId,
    clientSecret: auth.clientSecret,
    scope: auth.scope,
    clientAuthentication: auth.clientAuthentication ?? 'client_secret_basic',
    timeoutMs: endpoint.timeoutMs,
  };
}

interface Authorization {
  header?: string;
  token?: string;
  /** The token came straight from the token endpoint: a 401 will not be cured by another. */
  fresh: boolean;
}

/**
 * Sends one request to a DICOMweb server with the endpoint's headers and credentials. With OAuth2,
 * a 401 answer to a cached token triggers one token refresh and one retry. Network failures become
 * DicomwebErrors; HTTP statuses are returned for the caller to judge.
 */
export class DicomwebTransport {
  constructor(private readonly dependencies: TransportDependencies) {}

  async send(
    endpoint: ResolvedEndpoint,
    dicomwebRequest: DicomwebRequest,
    dispatcher: Dispatcher,
  ): Promise<DicomwebResponse> {
    let authorization = await this.authorize(endpoint, { forceRefresh: dicomwebRequest.freshToken });
    let response = await this.dispatch(endpoint, dicomwebRequest, dispatcher, authorization);
    if (response.status === 401 && authorization.token !== undefined && !authorization.fresh) {
      await response.body.dump();
      this.dependencies.logger?.warn({
        msg: 'DICOMweb server refused a cached OAuth2 token; fetching a new one and retrying once',
        server: endpoint.hostPort,
      });
      authorization = await this.authorize(endpoint, { rejected: authorization.token });
      response = await this.dispatch(endpoint, dicomwebRequest, dispatcher, authorization);
    }
    return response;
  }

  private async authorize(
    endpoint: ResolvedEndpoint,
    options: { forceRefresh?: boolean; rejected?: string },
  ): Promise<Authorization> {
    const { auth } = endpoint;
    switch (auth.method) {
      case 'none':
        return { fresh: false };
      case 'basic':
        return {
          header: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`,
          fresh: false,
        };
      case 'bearer':
        return { header: `Bearer ${auth.token}`, fresh: false };
      case 'oauth2-client-credentials': {
        const grant = grantOf(endpoint);
        if (grant === undefined) throw new Error('resolveEndpoint() left tokenUrl unset for OAuth2');
        const token = await this.dependencies.tokens.token(grant, options);
        if (token.fresh) {
          this.dependencies.logger?.debug({
            msg: 'OAuth2 token obtained',
            tokenEndpoint: grant.tokenUrl.origin,
          });
        }
        return { header: `Bearer ${token.value}`, token: token.value, fresh: token.fresh };
      }
    }
  }

  private async dispatch(
    endpoint: ResolvedEndpoint,
    dicomwebRequest: DicomwebRequest,
    dispatcher: Dispatcher,
    authorization: Authorization,
  ): Promise<DicomwebResponse> {
    const { url, method, signal } = dicomwebRequest;
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      ...endpoint.headers,
      ...dicomwebRequest.headers,
    };
    if (authorization.header !== undefined) headers.authorization = authorization.header;
    const secrets =
      authorization.token === undefined ? endpoint.secrets : [...endpoint.secrets, authorization.token];
    const failure = (error: unknown): DicomwebError => {
      // The caller's signal, whatever it rejected with (AbortSignal.timeout() gives a TimeoutError)
      if (signal?.aborted) {
        return new DicomwebError(DicomwebErrorCode.Aborted, 'the request was cancelled', { cause: error });
      }
      return networkFailure(error, connectionContext(url, endpoint.timeoutMs), secrets);
    };
    const started = performance.now();
    try {
      const response = await request(url, {
        method,
        headers,
        body: dicomwebRequest.body?.() ?? null,
        dispatcher,
        signal,
        headersTimeout: endpoint.timeoutMs,
        bodyTimeout: endpoint.timeoutMs,
      });
      // The path only: query values carry patient names and IDs.
      this.dependencies.logger?.debug({
        msg: 'DICOMweb answer',
        method,
        server: endpoint.hostPort,
        path: url.pathname,
        status: response.statusCode,
        ms: Math.round(performance.now() - started),
      });
      return {
        status: response.statusCode,
        headers: response.headers,
        body: response.body,
        url,
        secrets,
        failure,
      };
    } catch (error) {
      throw failure(error);
    }
  }
}
