import {
  BadRequestException,
  Controller,
  Get,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { EventStream } from './event-stream';
import type { Actor } from '../auth/actor';
import { CurrentActor } from '../auth/actor.decorator';
import { RequiresRole } from '../auth/requires-role.decorator';
import { ProblemResponse, problemContent } from '../http/dto/problem.response';

const PATTERN = /^(\*|#|[a-z0-9-]+)(\.(\*|#|[a-z0-9-]+))*$/;
const HEARTBEAT_MS = 15_000;
/** setTimeout's longest delay; a credential valid for longer is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A client this far behind is disconnected rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const SHUTTING_DOWN = {
  type: 'https://pacslink.dev/problems/shutting-down',
  title: 'shutting down',
  detail: 'this config-service replica is shutting down; connect again (another replica answers)',
};

/** Parses `?types=transfer.*,pacs-config.*`; absent = every event. */
export function parseTypes(types: string | undefined): string[] {
  if (types === undefined || types.trim() === '') return ['#'];
  const patterns = types.split(',').map((pattern) => pattern.trim());
  const bad = patterns.filter((pattern) => !PATTERN.test(pattern));
  if (bad.length > 0) {
    const message = `types must be comma-separated event types or patterns such as transfer.* (words of a-z, 0-9 and -, * for one word, # for any); not ${bad.map((b) => JSON.stringify(b)).join(', ')}`;
    throw new BadRequestException({
      type: 'https://pacslink.dev/problems/validation',
      title: 'invalid request',
      detail: message,
      errors: [{ field: 'types', message }],
    });
  }
  return patterns;
}

/** The contract's "Events to subscribers": the public events as Server-Sent Events. */
@ApiTags('events')
@RequiresRole('operator')
@Controller('events')
export class EventsController {
  constructor(private readonly stream: EventStream) {}

  @Get()
  @ApiOperation({
    summary: 'Stream events as Server-Sent Events',
    description:
      'Each event is one SSE message: `id` the eventId, `event` its type, `data` the envelope {eventId, type, version, occurredAt, data} as on RabbitMQ. A comment line every 15 s keeps proxies from closing the stream. The stream ends when the replica serving it shuts down; reconnect. Best effort: events while a client is not connected are not replayed (a subscriber that must not miss one binds its own queue to the pacslink.events exchange).',
  })
  @ApiQuery({
    name: 'types',
    required: false,
    example: 'transfer.*',
    description: 'Comma-separated event types or AMQP topic patterns (`*` one word, `#` any); default all.',
  })
  @ApiOkResponse({ description: 'text/event-stream', content: { 'text/event-stream': {} } })
  @ApiServiceUnavailableResponse({
    description: 'This replica is shutting down: connect again.',
    content: problemContent(ProblemResponse, { ...SHUTTING_DOWN, status: 503 }),
  })
  async events(
    @Query('types') types: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    const patterns = parseTypes(types);
    if (!this.stream.open) throw new ServiceUnavailableException(SHUTTING_DOWN);
    // Subscribed before the headers go out: a client that saw the answer start misses nothing after it.
    const unsubscribe = await this.stream.subscribe({
      patterns,
      deliver: (envelope, raw) => {
        if (response.writableLength > MAX_BUFFERED_BYTES) {
          response.end();
          return;
        }
        response.write(`id: ${envelope.eventId}\nevent: ${envelope.type}\ndata: ${raw}\n\n`);
      },
      end: () => {
        if (response.headersSent) response.end();
      },
    });
    if (!this.stream.open) {
      // The shutdown began while this stream was being subscribed.
      unsubscribe();
      throw new ServiceUnavailableException(SHUTTING_DOWN);
    }
    response.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // The stream is quiet on the client's side by design, and its heartbeat is its liveness: the
    // server's idle timeout (HTTP_IDLE_TIMEOUT_MS, meant for uploads that stall) does not apply.
    request.socket.setTimeout(0);
    response.flushHeaders();
    response.write(': pacslink events\n\n');
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
    // The stream must not outlive the credential that opened it (an OIDC token, or the token a
    // ticket was issued for): it ends when that expires, and the client has to authenticate again.
    let expiry: NodeJS.Timeout | undefined;
    const endAtExpiry = () => {
      const left = (actor.credentialExpiresAt?.getTime() ?? Infinity) - Date.now();
      if (left === Infinity) return;
      if (left > MAX_TIMER_MS) expiry = setTimeout(endAtExpiry, MAX_TIMER_MS);
      else expiry = setTimeout(() => response.end(': credentials expired\n\n'), Math.max(0, left));
    };
    endAtExpiry();
    const close = () => {
      clearInterval(heartbeat);
      clearTimeout(expiry);
      unsubscribe();
    };
    request.on('close', close);
    response.on('close', close);
  }
}
