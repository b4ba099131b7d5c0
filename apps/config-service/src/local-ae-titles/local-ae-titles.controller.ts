import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentActor } from '../auth/actor.decorator';
import type { Actor } from '../auth/actor';
import { PageQuery } from '../http/dto/page.dto';
import { CreateLocalAeTitleRequest } from './dto/create-local-ae-title.request';
import { LocalAeTitlePage, LocalAeTitleResponse } from './dto/local-ae-title.response';
import {
  ProblemResponse,
  VALIDATION_PROBLEM_TYPE,
  ValidationProblemResponse,
  problemContent,
} from '../http/dto/problem.response';
import { LocalAeTitleProblem } from './local-ae-titles.errors';
import { LocalAeTitlesService } from './local-ae-titles.service';
import { RequiresRole } from '../auth/requires-role.decorator';

@ApiTags('local-ae-titles')
@RequiresRole('operator')
@ApiExtraModels(ProblemResponse, ValidationProblemResponse)
@Controller('local-ae-titles')
export class LocalAeTitlesController {
  constructor(private readonly localAeTitles: LocalAeTitlesService) {}

  @Get()
  @ApiOperation({ summary: 'The AE titles the application may call a PACS by' })
  @ApiOkResponse({ type: LocalAeTitlePage })
  @ApiBadRequestResponse({
    description: 'limit or offset out of range, or an unknown query parameter',
    content: problemContent(ValidationProblemResponse, {
      type: VALIDATION_PROBLEM_TYPE,
      title: 'invalid request',
      status: 400,
      detail: 'limit must not be greater than 500',
      errors: [{ field: 'limit', message: 'limit must not be greater than 500' }],
    }),
  })
  async list(@Query() page: PageQuery): Promise<LocalAeTitlePage> {
    const found = await this.localAeTitles.list(page);
    return { ...found, items: found.items.map((title) => LocalAeTitleResponse.from(title)) };
  }

  @Post()
  @RequiresRole('admin')
  @ApiOperation({ summary: 'Add a local AE title' })
  @ApiCreatedResponse({ type: LocalAeTitleResponse })
  @ApiBadRequestResponse({
    description: 'not a valid AE title, description too long, or an unknown field',
    content: problemContent(ValidationProblemResponse, {
      type: VALIDATION_PROBLEM_TYPE,
      title: 'invalid request',
      status: 400,
      detail: 'aeTitle must not contain a backslash',
      errors: [{ field: 'aeTitle', message: 'aeTitle must not contain a backslash' }],
    }),
  })
  @ApiConflictResponse({
    description: 'a local AE title equal to it, compared case-insensitively, exists',
    content: problemContent(ProblemResponse, {
      type: LocalAeTitleProblem.exists,
      title: 'local AE title exists',
      status: 409,
      detail: 'the local AE title "PACSLINK" already exists (AE titles are compared case-insensitively)',
    }),
  })
  async create(
    @Body() body: CreateLocalAeTitleRequest,
    @CurrentActor() actor: Actor,
  ): Promise<LocalAeTitleResponse> {
    return LocalAeTitleResponse.from(await this.localAeTitles.create(actor, body));
  }

  @Delete(':aeTitle')
  @RequiresRole('admin')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Remove a local AE title' })
  @ApiParam({
    name: 'aeTitle',
    description: 'the AE title, URL-encoded; matched case-insensitively after trimming spaces',
    example: 'PACSLINK_CT',
  })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiNotFoundResponse({
    description: 'no local AE title equals it, compared case-insensitively',
    content: problemContent(ProblemResponse, {
      type: LocalAeTitleProblem.notFound,
      title: 'local AE title not found',
      status: 404,
      detail: 'there is no local AE title "CT1"',
    }),
  })
  @ApiConflictResponse({
    description: "it is the settings' defaultCallingAeTitle",
    content: problemContent(ProblemResponse, {
      type: LocalAeTitleProblem.isDefault,
      title: 'local AE title is the default calling AE title',
      status: 409,
      detail:
        '"PACSLINK" is the defaultCallingAeTitle in the settings and cannot be deleted: ' +
        'make another local AE title the default with PUT /api/v1/settings first',
    }),
  })
  async remove(@Param('aeTitle') aeTitle: string, @CurrentActor() actor: Actor): Promise<void> {
    await this.localAeTitles.remove(actor, aeTitle);
  }
}
