import { Body, Controller, Get, HttpCode, Post, Query, UseInterceptors } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../auth/actor';
import { CurrentActor } from '../auth/actor.decorator';
import { RequiresRole } from '../auth/requires-role.decorator';
import { ProblemResponse, ValidationProblemResponse, problemContent } from '../http/dto/problem.response';
import { ListWorklistTasksQuery } from './dto/list-worklist-tasks.query';
import { WorklistQueryRequest } from './dto/worklist-query.request';
import { WorklistQueryResponse, WorklistTaskPageResponse } from './dto/worklist-task.response';
import { WorklistErrorsInterceptor } from './worklist-errors.interceptor';
import { WorklistService } from './worklist.service';

const WRONG_DATE =
  'filters.scheduledDate: "2026-03-15" is not a date (YYYYMMDD) or a date range (YYYYMMDD-YYYYMMDD)';

const UNAVAILABLE = {
  description: 'mwl-mpps-service did not answer in time (the query: within timeoutMs + 5 s).',
  content: problemContent(ProblemResponse, {
    type: 'https://pacslink.dev/problems/worklist-unavailable',
    title: 'worklist service unavailable',
    status: 503,
    detail: 'no mwl-mpps-service answered within 35000 ms — is it running?',
  }),
};

/**
 * The worklist edge (contract "Worklist"): queries a PACS's Modality Worklist and lists the tasks
 * its steps became; mwl-mpps-service does the work over RabbitMQ.
 */
@ApiTags('worklist')
@RequiresRole('operator')
@ApiExtraModels(ProblemResponse, ValidationProblemResponse)
@UseInterceptors(WorklistErrorsInterceptor)
@Controller('worklist')
export class WorklistController {
  constructor(private readonly service: WorklistService) {}

  @Post('query')
  @HttpCode(200)
  @ApiOperation({
    summary: "Query a PACS's Modality Worklist and keep its steps as tasks",
    description:
      "A Modality Worklist C-FIND (1.2.840.10008.5.1.4.31) from the configuration's queryAeTitle (default: the settings' defaultCallingAeTitle) to its aeTitle, asking for patient name, ID, birth date and sex, accession number, requested procedure ID and description, Study Instance UID and the Scheduled Procedure Step Sequence (modality, station AE title, start date and time, description, step ID). Text is decoded by each answer's Specific Character Set, else by the configuration's mwlEncoding (DCMTK wlmscpfs never declares one), in the sequence too; a value that cannot be decoded is named in the task's warnings. Each step is kept as a task: the same step queried again updates its task, never adds one. Only for DIMSE configurations with mwl.",
  })
  @ApiBody({
    type: WorklistQueryRequest,
    examples: {
      today: {
        summary: 'The CT steps of one day',
        value: {
          pacsConfigId: '00000000-0000-4000-8000-000000000000',
          filters: { scheduledDate: '20260315', modality: 'CT' },
        },
      },
    },
  })
  @ApiOkResponse({ type: WorklistQueryResponse, description: "The tasks of the PACS's answer." })
  @ApiBadRequestResponse({
    description: 'Invalid body: each bad filter is named as filters.<name> in `errors`.',
    content: problemContent(ValidationProblemResponse, {
      type: 'https://pacslink.dev/problems/validation',
      title: 'invalid request',
      status: 400,
      detail: WRONG_DATE,
      errors: [{ field: 'filters.scheduledDate', message: WRONG_DATE }],
    }),
  })
  @ApiNotFoundResponse({
    description: 'No PACS configuration has this id.',
    content: problemContent(ProblemResponse, {
      type: 'https://pacslink.dev/problems/pacs-config-not-found',
      title: 'PACS configuration not found',
      status: 404,
      detail: 'no PACS configuration has id 00000000-0000-4000-8000-000000000000',
    }),
  })
  @ApiConflictResponse({
    description: 'The configuration is not DIMSE, or its mwl is off.',
    content: problemContent(ProblemResponse, {
      type: 'https://pacslink.dev/problems/worklist-not-offered',
      title: 'the configuration does not offer a worklist',
      status: 409,
      detail:
        'PACS configuration 00000000-0000-4000-8000-000000000000 ("ORTHANC") does not offer a Modality Worklist: only a DIMSE configuration with mwl does (PATCH /api/v1/pacs-configs/00000000-0000-4000-8000-000000000000 {"mwl": true})',
    }),
  })
  @ApiBadGatewayResponse({
    description:
      'The C-FIND failed: refused, timed out, association rejected or aborted, a failure status, or a destination the egress policy refuses (audited as egress.refused).',
    content: problemContent(ProblemResponse, {
      type: 'https://pacslink.dev/problems/worklist-query-failed',
      title: 'the worklist query failed',
      status: 502,
      detail:
        'the worklist query of "WLMSCP" failed: association rejected permanently by the called AE (service user): called AE title not recognized — the PACS does not answer to AE title WLMSCP; check its AE title',
    }),
  })
  @ApiServiceUnavailableResponse(UNAVAILABLE)
  query(@Body() body: WorklistQueryRequest, @CurrentActor() actor: Actor): Promise<WorklistQueryResponse> {
    return this.service.query(body, actor);
  }

  @Get('tasks')
  @ApiOperation({
    summary: 'List worklist tasks',
    description:
      'The tasks kept from worklist queries, earliest scheduled first; by default the scheduled and in-progress ones.',
  })
  @ApiOkResponse({ type: WorklistTaskPageResponse })
  @ApiServiceUnavailableResponse(UNAVAILABLE)
  list(@Query() query: ListWorklistTasksQuery): Promise<WorklistTaskPageResponse> {
    return this.service.list(query);
  }
}
