import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentActor } from '../auth/actor.decorator';
import type { Actor } from '../auth/actor';
import { PageQuery, type Page } from '../http/dto/page.dto';
import {
  ProblemResponse,
  ValidationProblemResponse,
  unauthorizedResponse,
} from '../http/dto/problem.response';
import { StudyDetailResponse, StudyPage, type StudySummaryResponse } from './dto/study.response';
import { NothingStoredProblem, UploadResult, UploadTooLargeProblem } from './dto/upload-result.response';
import { StudiesErrorsInterceptor } from './studies-errors.interceptor';
import { StudiesService } from './studies.service';
import { discardRestThenClose } from './upload-body';
import { RequiresRole } from '../auth/requires-role.decorator';

const problem = (description: string, model: typeof ProblemResponse = ProblemResponse) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: getSchemaPath(model) } } },
});
const StudyUidParam = () =>
  ApiParam({
    name: 'studyInstanceUid',
    description: 'Study Instance UID (PS3.5 9.1)',
    example: '1.2.840.113619.2.1',
  });

@ApiTags('studies')
@RequiresRole('operator')
@ApiExtraModels(ProblemResponse, ValidationProblemResponse, NothingStoredProblem, UploadTooLargeProblem)
@ApiResponse({ status: 401, ...unauthorizedResponse })
@UseInterceptors(StudiesErrorsInterceptor)
@Controller('studies')
export class StudiesController {
  constructor(private readonly service: StudiesService) {}

  @Post()
  @ApiOperation({
    summary: 'Upload DICOM instances into the study store (STOW-RS style)',
    description:
      'The body is `multipart/related; type="application/dicom"` with one DICOM Part 10 file per part, or ' +
      'one `application/dicom` file. It is streamed to disk part by part, never held in memory. Each ' +
      'instance is answered on its own: a corrupt part is refused with its reason while the others are ' +
      'stored. An instance whose SOP Instance UID is already stored replaces the earlier file and its index ' +
      'row, except that it may not move to another study or series while a queued or running transfer ' +
      'holds it: that part is in `failed` with the `transferId` (409 when it was the only one). Files must be Explicit or Implicit VR Little Endian datasets (any pixel data encoding); Big ' +
      'Endian and deflated datasets are refused. Limits (413 past them): UPLOAD_MAX_INSTANCE_BYTES per ' +
      'instance (default 4 GiB), UPLOAD_MAX_REQUEST_BYTES per request (64 GiB), UPLOAD_MAX_PARTS parts ' +
      '(100 000). A connection that sends nothing for HTTP_IDLE_TIMEOUT_MS (60 s) is closed; there is no ' +
      'limit on how long a steady upload takes.',
  })
  @ApiConsumes('multipart/related; type="application/dicom"', 'application/dicom')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 200, description: 'Every instance was stored.', type: UploadResult })
  @ApiResponse({
    status: 202,
    description: 'Some instances were stored, the others are in `failed`.',
    type: UploadResult,
  })
  @ApiResponse({
    status: 409,
    description: 'No instance was stored; `failed` says why for each part.',
    content: { 'application/problem+json': { schema: { $ref: getSchemaPath(NothingStoredProblem) } } },
  })
  @ApiResponse({
    status: 413,
    description:
      'The body went past a limit, named with its variable and value: a Content-Length above ' +
      'UPLOAD_MAX_REQUEST_BYTES (or, for a single application/dicom body, UPLOAD_MAX_INSTANCE_BYTES) before ' +
      'anything is read; else as the body streams, an instance above UPLOAD_MAX_INSTANCE_BYTES, the body ' +
      'above UPLOAD_MAX_REQUEST_BYTES, or more parts than UPLOAD_MAX_PARTS. The instances stored before ' +
      'stay stored and are listed in `stored`; the one being written is not kept; the rest of the body is ' +
      'not read (the connection is closed if the client goes on sending).',
    content: { 'application/problem+json': { schema: { $ref: getSchemaPath(UploadTooLargeProblem) } } },
  })
  @ApiResponse({
    status: 400,
    ...problem(
      'multipart/related without a boundary, without any part, or with part headers that cannot be read (malformed-multipart, naming the part).',
    ),
  })
  @ApiResponse({ status: 415, ...problem('Any other Content-Type; the answer names what is accepted.') })
  async upload(
    @Req() request: Request,
    @Res() response: Response,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    const { refusal, ...result } = await this.service.upload(request, actor);
    if (refusal !== undefined) {
      const body: UploadTooLargeProblem = {
        type: 'https://pacslink.dev/problems/upload-too-large',
        title: 'upload too large',
        status: 413,
        detail: refusal,
        ...result,
      };
      response.status(413).type('application/problem+json').send(JSON.stringify(body));
      discardRestThenClose(request);
      return;
    }
    if (result.stored.length === 0) {
      const body: NothingStoredProblem = {
        type: 'https://pacslink.dev/problems/nothing-stored',
        title: 'nothing stored',
        status: 409,
        detail: `none of the ${result.failed.length} parts was stored`,
        ...result,
      };
      response.status(409).type('application/problem+json').send(JSON.stringify(body));
      return;
    }
    response.status(result.failed.length === 0 ? 200 : 202).json(result);
  }

  @Get()
  @ApiOperation({ summary: 'List the studies in the store, most recently updated first' })
  @ApiOkResponse({ type: StudyPage })
  @ApiResponse({ status: 400, ...problem('A bad limit or offset.', ValidationProblemResponse) })
  list(@Query() query: PageQuery): Promise<Page<StudySummaryResponse>> {
    return this.service.list(query.limit, query.offset);
  }

  @Get(':studyInstanceUid')
  @ApiOperation({ summary: 'Read one study of the store, with its series' })
  @StudyUidParam()
  @ApiOkResponse({ type: StudyDetailResponse })
  @ApiResponse({ status: 400, ...problem('Not a valid UID.', ValidationProblemResponse) })
  @ApiResponse({ status: 404, ...problem('The store holds no such study.') })
  get(@Param('studyInstanceUid') studyInstanceUid: string): Promise<StudyDetailResponse> {
    return this.service.get(studyInstanceUid);
  }

  @Delete(':studyInstanceUid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a study from the store: its index rows, then its files' })
  @StudyUidParam()
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiResponse({ status: 400, ...problem('Not a valid UID.', ValidationProblemResponse) })
  @ApiResponse({ status: 404, ...problem('The store holds no such study.') })
  @ApiResponse({ status: 409, ...problem('A transfer of the study is queued or running.') })
  async remove(
    @Param('studyInstanceUid') studyInstanceUid: string,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.service.remove(studyInstanceUid, actor);
  }
}
