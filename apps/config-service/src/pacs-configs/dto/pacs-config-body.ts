import type { Type } from '@nestjs/common';
import type { PacsConfigType } from '@pacslink/contracts';
import { createValidationPipe } from '../../http/validation';
import { PacsConfigError, PacsConfigErrorCode } from '../pacs-configs.errors';
import {
  CreateDicomwebPacsConfigDto,
  CreateDimsePacsConfigDto,
  PacsConfigTypeDto,
  type CreatePacsConfigDto,
} from './create-pacs-config.dto';
import {
  PatchDicomwebPacsConfigDto,
  PatchDimsePacsConfigDto,
  type PatchPacsConfigDto,
} from './patch-pacs-config.dto';

/*
 * A request body is one of two shapes chosen by `type`, which a single DTO class cannot express
 * to class-validator. So `type` is validated first, then the whole body by the class of that
 * type, with the application's own ValidationPipe: the same rules (unknown fields refused) and
 * the same problem+json 400 as every other body.
 */
const pipe = createValidationPipe();

async function validateAs<T>(metatype: Type<T>, value: unknown): Promise<T> {
  return (await pipe.transform(value, { type: 'body', metatype })) as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only `type` of the body, or the body itself when it is not an object (refused as such). */
function typeOf(body: unknown): unknown {
  return isPlainObject(body) ? { type: body.type } : body;
}

export async function parseCreateBody(body: unknown): Promise<CreatePacsConfigDto> {
  const { type } = await validateAs(PacsConfigTypeDto, typeOf(body));
  return type === 'dicomweb'
    ? validateAs(CreateDicomwebPacsConfigDto, body)
    : validateAs(CreateDimsePacsConfigDto, body);
}

/** A PATCH is validated by the class of the stored type; naming another type is a conflict. */
export async function parsePatchBody(body: unknown, storedType: PacsConfigType): Promise<PatchPacsConfigDto> {
  if (isPlainObject(body) && body.type !== undefined) {
    const { type } = await validateAs(PacsConfigTypeDto, { type: body.type });
    if (type !== storedType) {
      throw new PacsConfigError(
        PacsConfigErrorCode.TypeFixed,
        `type is fixed at creation: this configuration is ${storedType}, it cannot become ${type}; create a new configuration instead`,
        'type',
      );
    }
  }
  return storedType === 'dicomweb'
    ? validateAs(PatchDicomwebPacsConfigDto, body)
    : validateAs(PatchDimsePacsConfigDto, body);
}
