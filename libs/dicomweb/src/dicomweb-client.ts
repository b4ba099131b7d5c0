import type { Dispatcher } from 'undici';
import type { EgressGuard } from '@pacslink/egress';
import type { DicomJson } from '@pacslink/dicom';
import { resolveEndpoint, type DicomwebEndpoint, type ResolvedEndpoint } from './dicomweb-endpoint';
import type { DicomwebLogger } from './dicomweb-logger';
import { createAgent, DicomwebTransport, DispatcherPool } from './dicomweb-transport';
import { buildUrl } from './dicomweb-url';
import { DicomwebError, type DicomwebErrorCode } from './dicomweb.errors';
import { redact } from './failure-mapping';
import { requestClientCredentialsToken } from './oauth2-client-credentials';
import { OAuth2TokenCache } from './oauth2-token-cache';
import {
  DEFAULT_MAX_QIDO_RESPONSE_BYTES,
  qidoUrl,
  readQidoAnswer,
  type QidoAnswer,
  type QidoOptions,
  type QidoQuery,
} from './qido';
import { stowInstances, type StowInstance, type StowOptions, type StowOutcome } from './stow';
import {
  retrieveResource,
  retrieveStudy,
  type InstanceSink,
  type PartHandler,
  type ResourceRequest,
  type RetrieveOptions,
  type RetrieveResult,
} from './wado-retrieve';

/** The contract's connection test answer ("Connection test"). */
export type ConnectionTestResult =
  | { ok: true; message: 'Connection established'; detail?: string; elapsedMs: number }
  | { ok: false; message: 'Connection failed'; detail: string; elapsedMs: number; code?: DicomwebErrorCode };

interface CommonOptions {
  logger?: DicomwebLogger;
  /** Share one cache between clients, or inject one with a fake clock in tests. */
  tokenCache?: OAuth2TokenCache;
}

/**
 * Every connection the client opens (token requests too) goes through `egress`, checked on the
 * address it connects to. Only a test double replaces it: `dispatcher` (e.g. undici's MockAgent)
 * then takes every request, and the endpoint's timeouts and CAs do not apply either.
 */
export type DicomwebClientOptions = CommonOptions &
  ({ egress: EgressGuard; dispatcher?: undefined } | { dispatcher: Dispatcher; egress?: undefined });

/** How much of a connection test answer is read: enough for any honest `limit=1` answer. */
export const CONNECTION_TEST_READ_BYTES = 64 * 1024;

/**
 * The DICOMweb client: QIDO-RS, STOW-RS, WADO-RS retrieve and the connection test. Holds
 * pooled connections and the OAuth2 token cache; `close()` releases the connections.
 */
export class DicomwebClient {
  private readonly connections: { egress: EgressGuard; pool: DispatcherPool } | { injected: Dispatcher };
  private readonly transport: DicomwebTransport;
  private readonly logger: DicomwebLogger | undefined;
  readonly tokens: OAuth2TokenCache;

  constructor(options: DicomwebClientOptions) {
    this.logger = options.logger;
    this.connections =
      options.egress === undefined
        ? { injected: options.dispatcher }
        : { egress: options.egress, pool: new DispatcherPool(options.egress) };
    this.tokens =
      options.tokenCache ??
      new OAuth2TokenCache((grant) =>
        requestClientCredentialsToken(grant, this.dispatcher(grant.timeoutMs, 'default')),
      );
    this.transport = new DicomwebTransport({ tokens: this.tokens, logger: options.logger });
  }

  /** QIDO-RS search (PS3.18 10.6); resolves to the matches as DICOM JSON, `[]` when none. */
  async qido(endpoint: DicomwebEndpoint, query: QidoQuery, options: QidoOptions = {}): Promise<DicomJson[]> {
    const resolved = resolveEndpoint(endpoint);
    const url = qidoUrl(resolved, query);
    const response = await this.transport.send(
      resolved,
      { method: 'GET', url, signal: options.signal },
      this.dispatcher(resolved.timeoutMs, resolved.tlsKey, resolved.ca),
    );
    const answer = await readQidoAnswer(response, resolved, {
      maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_QIDO_RESPONSE_BYTES,
    });
    return answer.datasets;
  }

  /**
   * STOW-RS (PS3.18 10.5): stores the instances, streamed from their files, in multipart/related
   * batches or one `application/dicom` POST each (`options.multipart`). Resolves to one outcome per
   * instance, in input order; rejects with a DicomwebError when a request fails as a whole (outcomes
   * already passed to `onOutcome` stay valid).
   */
  async stow(
    endpoint: DicomwebEndpoint,
    instances: readonly StowInstance[],
    options: StowOptions,
  ): Promise<StowOutcome[]> {
    const resolved = resolveEndpoint(endpoint);
    const dispatcher = this.dispatcher(resolved.timeoutMs, resolved.tlsKey, resolved.ca);
    return stowInstances(
      { transport: this.transport, dispatcher, logger: this.logger },
      resolved,
      instances,
      options,
    );
  }

  /**
   * Import over DICOMweb: QIDO-RS for the study's series and instances, then WADO-RS retrieve series
   * by series, each instance streamed into `sink` (e.g. StudyStore.write) as its part arrives.
   * Resolves to the plan and one outcome per instance; rejects with a DicomwebError when a request
   * fails as a whole (see wado-retrieve.ts and the README, "WADO-RS retrieve").
   */
  async retrieve(
    endpoint: DicomwebEndpoint,
    options: RetrieveOptions,
    sink: InstanceSink,
  ): Promise<RetrieveResult> {
    const resolved = resolveEndpoint(endpoint);
    const dispatcher = this.dispatcher(resolved.timeoutMs, resolved.tlsKey, resolved.ca);
    return retrieveStudy(
      {
        transport: this.transport,
        dispatcher,
        logger: this.logger,
        qido: (query, signal) => this.qido(endpoint, query, { signal }),
      },
      resolved,
      options,
      sink,
    );
  }

  /**
   * One WADO-RS GET of a series, or of one instance, each part handed to `handle` as it streams in
   * (back-pressure as for retrieve()). For a caller that plans itself what to fetch (import
   * batches); resolves to the number of parts, rejects with a DicomwebError or `handle`'s error.
   */
  async retrieveResource(
    endpoint: DicomwebEndpoint,
    request: ResourceRequest,
    handle: PartHandler,
  ): Promise<{ parts: number }> {
    const resolved = resolveEndpoint(endpoint);
    const dispatcher = this.dispatcher(resolved.timeoutMs, resolved.tlsKey, resolved.ca);
    return retrieveResource(
      { transport: this.transport, dispatcher, logger: this.logger },
      resolved,
      request,
      handle,
    );
  }

  /**
   * The contract's DICOMweb connection test: `GET {url}/studies?limit=1` with the configured auth
   * and headers, over a connection of its own (so DNS, TCP and TLS are really exercised, not a
   * pooled socket) and, for OAuth2, with a token fresh from the token endpoint. Never throws.
   */
  async testConnection(endpoint: DicomwebEndpoint): Promise<ConnectionTestResult> {
    const started = performance.now();
    const elapsedMs = () => Math.round(performance.now() - started);
    let resolved: ResolvedEndpoint;
    try {
      resolved = resolveEndpoint(endpoint);
    } catch (error) {
      return failed(error, elapsedMs());
    }
    try {
      const url = buildUrl(resolved.baseUrl, ['studies'], { limit: 1 });
      const answer = await this.withOwnConnection(resolved, async (dispatcher) => {
        const response = await this.transport.send(
          resolved,
          { method: 'GET', url, freshToken: true },
          dispatcher,
        );
        return readQidoAnswer(response, resolved, {
          maxBytes: CONNECTION_TEST_READ_BYTES,
          allowTruncated: true,
        });
      });
      return {
        ok: true,
        message: 'Connection established',
        detail: establishedDetail(answer),
        elapsedMs: elapsedMs(),
      };
    } catch (error) {
      return failed(error, elapsedMs(), resolved.secrets);
    }
  }

  /** Runs `use` on a fresh Agent that is destroyed afterwards (or on the injected dispatcher). */
  private async withOwnConnection<T>(
    resolved: ResolvedEndpoint,
    use: (dispatcher: Dispatcher) => Promise<T>,
  ): Promise<T> {
    if ('injected' in this.connections) return use(this.connections.injected);
    const agent = createAgent(this.connections.egress, resolved.timeoutMs, resolved.ca);
    try {
      return await use(agent);
    } finally {
      await agent.destroy();
    }
  }

  /** The pooled Agent for requests of this kind (or the injected dispatcher). */
  private dispatcher(timeoutMs: number, tlsKey: string, ca?: readonly string[]): Dispatcher {
    return 'injected' in this.connections
      ? this.connections.injected
      : this.connections.pool.get(timeoutMs, tlsKey, ca);
  }

  async close(): Promise<void> {
    if ('pool' in this.connections) await this.connections.pool.close();
  }
}

function establishedDetail(answer: QidoAnswer): string {
  if (answer.truncated || answer.datasets.length > 0) return 'found at least one study';
  // PS3.18 answers QIDO-RS as application/dicom+json. `[]` as plain application/json is also what
  // many REST APIs say about an empty list (Orthanc's own /studies does, without /dicom-web).
  return answer.mediaType === 'application/json'
    ? 'the server answered but holds no studies (it answered application/json, not application/dicom+json: check that the URL is the DICOMweb service, not another REST API)'
    : 'the server answered but holds no studies';
}

function failed(error: unknown, elapsedMs: number, secrets: readonly string[] = []): ConnectionTestResult {
  // Anything but a DicomwebError is a bug of ours; still an answer, never a throw.
  if (error instanceof DicomwebError) {
    return { ok: false, message: 'Connection failed', detail: error.message, elapsedMs, code: error.code };
  }
  const detail = redact(
    `unexpected failure: ${error instanceof Error ? error.message : String(error)}`,
    secrets,
  );
  return { ok: false, message: 'Connection failed', detail, elapsedMs };
}
