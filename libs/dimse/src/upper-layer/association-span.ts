import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Socket } from 'node:net';
import type { DimseFailure } from '../dimse.errors';
import type { DimseConnectionOptions } from '../dimse.options';
import type { ProposedPresentationContext } from './pdu';

/**
 * One client span per association we request, from the A-ASSOCIATE-RQ (with the peer's lookup)
 * until the connection closes: the DICOM leg of a transfer's trace. AE titles, the peer's address
 * and the first proposed SOP class (what the association is for) only: never anything of a data
 * set. A no-op without tracing.
 */
export function startAssociationSpan(
  params: DimseConnectionOptions,
  contexts: readonly ProposedPresentationContext[],
): Span {
  return trace.getTracer('@pacslink/dimse').startSpan('DICOM association', {
    kind: SpanKind.CLIENT,
    attributes: {
      'server.address': params.host,
      'server.port': params.port,
      'network.transport': 'tcp',
      'pacslink.dicom.calling_ae_title': params.callingAeTitle,
      'pacslink.dicom.called_ae_title': params.calledAeTitle,
      'pacslink.dicom.abstract_syntax': contexts[0]?.abstractSyntaxUid ?? '',
      'pacslink.dicom.presentation_contexts': contexts.length,
    },
  });
}

/** The association is up: where it actually connected. */
export function associationConnected(span: Span, socket: Socket): void {
  if (socket.remoteAddress !== undefined) span.setAttribute('network.peer.address', socket.remoteAddress);
  if (socket.remotePort !== undefined) span.setAttribute('network.peer.port', socket.remotePort);
}

/**
 * Ends the span; a failure marks it failed with its kind (e.g. association-rejected, timeout), an
 * unexpected error with its name: never a message, which may quote the peer.
 */
export function endAssociationSpan(span: Span, failure: DimseFailure | Error | undefined): void {
  if (failure !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('error.type', 'kind' in failure ? failure.kind : failure.name);
  }
  span.end();
}
