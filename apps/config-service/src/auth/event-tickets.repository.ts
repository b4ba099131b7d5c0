import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isRole, type Actor } from './actor';

/** How long a ticket may wait to be redeemed: long enough for a page to open its EventSource. */
export const EVENT_TICKET_TTL_MS = 60_000;

function digest(ticket: string): Buffer {
  return createHash('sha256').update(ticket, 'utf8').digest();
}

interface TicketRow {
  id: string;
  name: string | null;
  roles: string[];
  credentialExpiresAt: Date | null;
  valid: boolean;
}

/** The only place that reads or writes event_ticket. */
@Injectable()
export class EventTicketsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** A new ticket for `actor`; the table keeps its digest only. Expired tickets are swept on the way. */
  async issue(actor: Actor): Promise<{ ticket: string; expiresAt: Date }> {
    const ticket = randomBytes(32).toString('base64url');
    await this.dataSource.query(`DELETE FROM event_ticket WHERE expires_at < now()`);
    const [row] = await this.dataSource.query<{ expiresAt: Date }[]>(
      `INSERT INTO event_ticket (ticket_digest, actor_id, actor_name, roles, expires_at, credential_expires_at)
       VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond', $6) RETURNING expires_at AS "expiresAt"`,
      [
        digest(ticket),
        actor.id,
        actor.name ?? null,
        actor.roles,
        EVENT_TICKET_TTL_MS,
        actor.credentialExpiresAt ?? null,
      ],
    );
    return { ticket, expiresAt: row.expiresAt };
  }

  /** The actor a ticket was issued to, once: redeeming deletes it, whether it is still valid or not. */
  async redeem(ticket: string): Promise<Actor | undefined> {
    // TypeORM answers a DELETE as [rows, count].
    const [rows] = await this.dataSource.query<[TicketRow[], number]>(
      `DELETE FROM event_ticket WHERE ticket_digest = $1
       RETURNING actor_id AS "id", actor_name AS "name", roles, credential_expires_at AS "credentialExpiresAt",
         expires_at > now() AS valid`,
      [digest(ticket)],
    );
    const row = rows[0];
    if (!row?.valid) return undefined;
    return {
      id: row.id,
      ...(row.name !== null ? { name: row.name } : {}),
      roles: row.roles.filter(isRole),
      ...(row.credentialExpiresAt !== null ? { credentialExpiresAt: row.credentialExpiresAt } : {}),
    };
  }
}
