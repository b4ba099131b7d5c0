import type { Request } from 'express';
import type { Actor } from './actor';

/** A request once AuthenticationMiddleware has run: the caller, or a public route that needs none. */
export type AuthenticatedRequest = Request & { actor?: Actor; publicRoute?: boolean };
