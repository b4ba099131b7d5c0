import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** The attributes the HTTP and undici instrumentations write a URL or its parts into. */
const URL_ATTRIBUTES = ['url.full', 'url.path', 'url.query', 'http.url', 'http.target'];

/** A path segment that is a DICOM UID (PS3.5 9.1): digits separated by dots. */
const UID_SEGMENT = /(^|\/)[0-9]+(?:\.[0-9]+)+(?=\/|$)/g;

/**
 * A URL without what may identify a patient's study: DICOMweb and API paths carry Study, Series
 * and SOP Instance UIDs, and queries carry patient names, accession numbers or tickets. The query is
 * dropped whole, each UID segment becomes `{uid}`.
 */
export function redactUrl(value: string): string {
  if (URL.canParse(value)) {
    const url = new URL(value);
    return `${url.origin}${redactPath(url.pathname)}`;
  }
  const query = value.search(/[?#]/);
  return redactPath(query === -1 ? value : value.slice(0, query));
}

function redactPath(path: string): string {
  return path.replace(UID_SEGMENT, '$1{uid}');
}

/**
 * Rewrites URL attributes when a span ends, before any exporter sees it (onEnding runs while the
 * span is still writable): the instrumentations record the URL as the request had it.
 */
export class UrlRedactingSpanProcessor implements SpanProcessor {
  onStart(_span: Span, _context: Context): void {}

  onEnding(span: Span): void {
    for (const key of URL_ATTRIBUTES) {
      const value = span.attributes[key];
      if (typeof value !== 'string') continue;
      span.setAttribute(key, key === 'url.query' ? '[redacted]' : redactUrl(value));
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
