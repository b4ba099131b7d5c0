export * from './dicomweb-client';
export {
  displayUrl,
  MAX_TIMEOUT_MS,
  resolveEndpoint,
  type DicomwebAuth,
  type DicomwebAuthMethod,
  type DicomwebEndpoint,
  type DicomwebTlsOptions,
  type ResolvedEndpoint,
} from './dicomweb-endpoint';
export * from './dicomweb-logger';
export { buildUrl } from './dicomweb-url';
export * from './dicomweb.errors';
export {
  OAuth2TokenCache,
  type ClientCredentialsGrant,
  type IssuedToken,
  type OAuth2TokenCacheOptions,
  type TokenFetcher,
} from './oauth2-token-cache';
export { requestClientCredentialsToken } from './oauth2-client-credentials';
export { qidoUrl, type QidoLevel, type QidoOptions, type QidoQuery } from './qido';
export { describeStowReason } from './stow-reasons';
export {
  DEFAULT_STOW_MAX_BYTES,
  DEFAULT_STOW_MAX_INSTANCES,
  NOT_MENTIONED,
  type StowInstance,
  type StowOptions,
  type StowOutcome,
  type StowOutcomeStatus,
} from './stow';
export { parseMediaType, type MediaType } from './media-type';
export { forEachPart, type ForEachPartOptions, type MultipartPart } from './multipart-parts';
export { MULTIPART_MALFORMED, MULTIPART_TRUNCATED, MultipartError } from './multipart-scanner';
export {
  retrieveAcceptHeader,
  type InstanceSink,
  type PartHandler,
  type ResourceRequest,
  type RetrievedPart,
  type RetrieveOptions,
  type RetrieveOutcome,
  type RetrieveOutcomeStatus,
  type RetrievePlan,
  type RetrieveResult,
} from './wado-retrieve';
