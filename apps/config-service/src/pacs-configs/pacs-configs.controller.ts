import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Res,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { API_PREFIX } from '../http/configure-http';
import { CurrentActor } from '../auth/actor.decorator';
import type { Actor } from '../auth/actor';
import { authRequestModels } from './dto/auth.dto';
import { CreateDicomwebPacsConfigDto, CreateDimsePacsConfigDto } from './dto/create-pacs-config.dto';
import { ListPacsConfigsQuery } from './dto/list-pacs-configs.query';
import { parseCreateBody, parsePatchBody } from './dto/pacs-config-body';
import {
  DicomwebPacsConfigResponse,
  DimsePacsConfigResponse,
  PacsConfigPage,
  authResponseModels,
  pacsConfigResponseSchema,
  type PacsConfigResponse,
} from './dto/pacs-config.response';
import { PatchDicomwebPacsConfigDto, PatchDimsePacsConfigDto } from './dto/patch-pacs-config.dto';
import { FieldErrorResponse, ValidationProblemResponse } from '../http/dto/problem.response';
import { PacsConfigErrorsInterceptor } from './pacs-config-errors.interceptor';
import { PacsConfigsService, type TaggedPacsConfig } from './pacs-configs.service';
import { RequiresRole } from '../auth/requires-role.decorator';

const PROBLEMS: Record<number, string> = {
  400: 'Invalid request: malformed JSON, an unknown field, a field of the other type, or a bad value (each named in `errors`); on a PATCH, a secret that must be given again (`secret-required`: the method, the user or client, or the scheme, host or port it is sent to changes).',
  401: 'Missing or invalid API key.',
  404: 'No PACS configuration has this id.',
  409: 'The AE title is already used by another configuration (case-insensitive), or the PATCH changes `type`.',
  412: 'If-Match does not match the current ETag: the configuration changed since it was read.',
  413: 'The body is larger than JSON_BODY_LIMIT.',
};

/** Error answers, documented as application/problem+json. */
function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: PROBLEMS[status],
        content: {
          'application/problem+json': { schema: { $ref: getSchemaPath(ValidationProblemResponse) } },
        },
      }),
    ),
  );
}

const ETAG_HEADER = {
  ETag: { description: 'Entity tag of this version; send it back as If-Match.', schema: { type: 'string' } },
};
const IdParam = () => ApiParam({ name: 'id', format: 'uuid', description: 'The configuration id.' });
const IfMatch = () =>
  ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The ETag last read; when present and stale the request is refused with 412.',
  });

const createBodySchema = {
  oneOf: [
    { $ref: getSchemaPath(CreateDicomwebPacsConfigDto) },
    { $ref: getSchemaPath(CreateDimsePacsConfigDto) },
  ],
  discriminator: {
    propertyName: 'type',
    mapping: {
      dicomweb: getSchemaPath(CreateDicomwebPacsConfigDto),
      dimse: getSchemaPath(CreateDimsePacsConfigDto),
    },
  },
};
const patchBodySchema = {
  description: "The fields to change, of the configuration's own type; `type` itself cannot change.",
  oneOf: [
    { $ref: getSchemaPath(PatchDicomwebPacsConfigDto) },
    { $ref: getSchemaPath(PatchDimsePacsConfigDto) },
  ],
};

@ApiTags('pacs-configs')
@RequiresRole('operator')
@ApiExtraModels(
  CreateDicomwebPacsConfigDto,
  CreateDimsePacsConfigDto,
  PatchDicomwebPacsConfigDto,
  PatchDimsePacsConfigDto,
  DicomwebPacsConfigResponse,
  DimsePacsConfigResponse,
  ValidationProblemResponse,
  FieldErrorResponse,
  ...authRequestModels,
  ...authResponseModels,
)
@ApiProblems(401)
@UseInterceptors(PacsConfigErrorsInterceptor)
@Controller('pacs-configs')
export class PacsConfigsController {
  constructor(private readonly service: PacsConfigsService) {}

  @Post()
  @RequiresRole('admin')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a PACS configuration (DICOMweb or DIMSE, chosen by `type`)' })
  @ApiBody({ schema: createBodySchema })
  @ApiResponse({
    status: 201,
    description: 'Created; Location names it.',
    schema: pacsConfigResponseSchema,
    headers: {
      ...ETAG_HEADER,
      Location: { description: 'URL of the new configuration', schema: { type: 'string' } },
    },
  })
  @ApiProblems(400, 409, 413)
  async create(
    @Body() body: unknown,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PacsConfigResponse> {
    const dto = await parseCreateBody(body);
    const created = await this.service.create(dto, actor);
    response.location(`/${API_PREFIX}/pacs-configs/${created.config.id}`);
    return answer(response, created);
  }

  @Get()
  @ApiOperation({ summary: 'List PACS configurations, optionally only those offering a capability' })
  @ApiOkResponse({ type: PacsConfigPage })
  @ApiProblems(400)
  list(@Query() query: ListPacsConfigsQuery): Promise<PacsConfigPage> {
    return this.service.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read one PACS configuration' })
  @IdParam()
  @ApiResponse({ status: 200, schema: pacsConfigResponseSchema, headers: ETAG_HEADER })
  @ApiProblems(400, 404)
  async get(
    @Param('id', ParseUUIDPipe) id: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PacsConfigResponse> {
    return answer(response, await this.service.get(id));
  }

  @Patch(':id')
  @RequiresRole('admin')
  @ApiOperation({ summary: 'Change some fields of a PACS configuration' })
  @IdParam()
  @IfMatch()
  @ApiBody({ schema: patchBodySchema })
  @ApiResponse({
    status: 200,
    description: 'The configuration as changed.',
    schema: pacsConfigResponseSchema,
    headers: ETAG_HEADER,
  })
  @ApiProblems(400, 404, 409, 412, 413)
  async update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PacsConfigResponse> {
    const patch = await parsePatchBody(body, await this.service.typeOf(id));
    return answer(response, await this.service.update(id, patch, ifMatch, actor));
  }

  @Delete(':id')
  @RequiresRole('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a PACS configuration' })
  @IdParam()
  @IfMatch()
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems(400, 404, 412)
  async remove(
    @Param('id', ParseUUIDPipe) id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.service.remove(id, ifMatch, actor);
  }
}

function answer(response: Response, { config, etag }: TaggedPacsConfig): PacsConfigResponse {
  response.setHeader('ETag', etag);
  return config;
}
