import { Controller, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { type Actor } from './actor';
import { CurrentActor } from './actor.decorator';
import { EVENT_TICKET_TTL_MS, EventTicketsRepository } from './event-tickets.repository';
import { RequiresRole } from './requires-role.decorator';

export class EventTicketResponse {
  @ApiProperty({ example: 'q3Zf…', description: 'use once, as GET /api/v1/events?ticket=…' }) ticket!: string;
  @ApiProperty({ example: '2026-12-07T12:00:00.000Z' }) expiresAt!: string;
}

/** The contract's "Events to subscribers": tickets for a browser's EventSource, which cannot send a header. */
@ApiTags('events')
@RequiresRole('operator')
@Controller('events/tickets')
export class EventTicketsController {
  constructor(private readonly tickets: EventTicketsRepository) {}

  @Post()
  @ApiOperation({
    summary: 'A single-use ticket for the event stream',
    description: `For GET /api/v1/events?ticket=… from a browser's EventSource. Valid once, for ${EVENT_TICKET_TTL_MS / 1000} s, for the caller who asked: the stream is opened as that caller.`,
  })
  @ApiCreatedResponse({ type: EventTicketResponse })
  async issue(@CurrentActor() actor: Actor): Promise<EventTicketResponse> {
    const { ticket, expiresAt } = await this.tickets.issue(actor);
    return { ticket, expiresAt: expiresAt.toISOString() };
  }
}
