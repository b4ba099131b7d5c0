import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { createValidationPipe } from '../../http/validation';
import { parseCreateBody } from '../../pacs-configs/dto/pacs-config-body';
import type { CreatePacsConfigDto } from '../../pacs-configs/dto/create-pacs-config.dto';

const CALLING_AE_TITLE_DOC = {
  type: String,
  example: 'PACSLINK',
  description:
    "DIMSE only: the calling AE title of the C-ECHO, one of the local AE titles (compared case-insensitively). Default: the settings' defaultCallingAeTitle. Ignored for DICOMweb.",
};

/** Body of `POST /pacs-configs/{id}/test-connection`. */
export class TestConnectionRequest {
  @ApiPropertyOptional(CALLING_AE_TITLE_DOC)
  @IsOptional()
  @IsString()
  callingAeTitle?: string;
}

/** A full configuration as for create, plus the optional calling AE title. */
export interface UnsavedTestConnection {
  config: CreatePacsConfigDto;
  callingAeTitle?: string;
}

const pipe = createValidationPipe();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Body of `POST /pacs-configs/test-connection`: `callingAeTitle` is taken off, the rest is
 * validated exactly as a create body (same rules, same problem+json 400).
 */
export async function parseUnsavedTestBody(body: unknown): Promise<UnsavedTestConnection> {
  if (!isPlainObject(body) || !('callingAeTitle' in body)) return { config: await parseCreateBody(body) };
  const { callingAeTitle, ...rest } = body;
  const [options, config] = await Promise.all([
    pipe.transform(
      { callingAeTitle },
      { type: 'body', metatype: TestConnectionRequest },
    ) as Promise<TestConnectionRequest>,
    parseCreateBody(rest),
  ]);
  return { config, callingAeTitle: options.callingAeTitle };
}
