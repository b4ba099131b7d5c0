import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
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
import { DiscontinueWorklistTaskRequest } from './dto/discontinue-worklist-task.request';
import {
  WorklistQueryResponse,
  WorklistTaskPageResponse,
  WorklistTaskResponse,
} from './dto/worklist-task.response';
import { WorklistMppsService } from './worklist-mpps.service';
import { WorklistErrorsInterceptor } from './worklist-errors.interceptor';
import { WorklistService } from './worklist.service';

const WRONG_DATE =
  'filters.scheduledDate: "2026-03-15" is not a date (YYYYMMDD) or a date range (YYYYMMDD-YYYYMMDD)';

const TASK_NOT_FOUND = {
  description: 'No worklist task has this id.',
  content: problemContent(ProblemResponse, {
    type: 'https://pacslink.dev/problems/worklist-task-not-found',
    title: 'worklist task not found',
    status: 404,
    detail: 'no worklist task 00000000-0000-4000-8000-000000000000',
  }),
};

const MPPS_CONFLICT = {
  description:
    "The task's configuration does not offer MPPS (DIMSE with mpps), or the task's status does not allow it.",
  content: problemContent(ProblemResponse, {
    type: 'https://pacslink.dev/problems/worklist-task-state',
    title: "the task's status does not allow it",
    status: 409,
    detail: 'task 00000000-0000-4000-8000-000000000000 is completed: only a scheduled task can be started',
  }),
};

const MPPS_FAILED = {
  description:
    'The MPPS SCP refused (its status, e.g. 0x0110, 0x0120, 0xA7xx, is kept on the task with its meaning) or did not answer; the task stays where it was.',
  content: problemContent(ProblemResponse, {
    type: 'https://pacslink.dev/problems/mpps-failed',
    title: 'the MPPS SCP did not do it',
    status: 502,
    detail:
      'the MPPS SCP did not start task 00000000-0000-4000-8000-000000000000: refused 0x0120 (failure: missing attribute)',
  }),
};

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
  constructor(
    private readonly service: WorklistService,
    private readonly mpps: WorklistMppsService,
  ) {}

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

  @Post('tasks/:id/start')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Start a task: MPPS N-CREATE, IN PROGRESS',
    description:
      "An N-CREATE of a Modality Performed Procedure Step (PS3.4 F.7) on the task's configuration (its aeTitle, called from queryAeTitle else defaultCallingAeTitle, which is the Performed Station AE Title): the Scheduled Step Attributes Sequence from the task, its patient, the start date and time, the modality, an empty Performed Series Sequence. The SOP Instance UID is pacslink's own, kept with the task. A warning status is a success with a note on the task. Publishes worklist.task.started.",
  })
  @ApiOkResponse({ type: WorklistTaskResponse, description: 'The task, in-progress.' })
  @ApiNotFoundResponse(TASK_NOT_FOUND)
  @ApiConflictResponse(MPPS_CONFLICT)
  @ApiBadGatewayResponse(MPPS_FAILED)
  @ApiServiceUnavailableResponse(UNAVAILABLE)
  start(@Param('id', ParseUUIDPipe) id: string, @CurrentActor() actor: Actor): Promise<WorklistTaskResponse> {
    return this.mpps.start(id, actor);
  }

  @Post('tasks/:id/complete')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Complete a task: MPPS N-SET, COMPLETED',
    description:
      "An N-SET COMPLETED with the end date and time and the Performed Series Sequence: the series of the task's study (its Study Instance UID) as pacslink's study store holds them, each with its instances' SOP class and instance UIDs (images in the Referenced Image Sequence, others in the Referenced Non-Image Composite SOP Instance Sequence). A task not started yet is started first (N-CREATE). The task leaves the default list. Publishes worklist.task.completed.",
  })
  @ApiOkResponse({ type: WorklistTaskResponse, description: 'The task, completed.' })
  @ApiNotFoundResponse(TASK_NOT_FOUND)
  @ApiConflictResponse(MPPS_CONFLICT)
  @ApiBadGatewayResponse(MPPS_FAILED)
  @ApiServiceUnavailableResponse(UNAVAILABLE)
  complete(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentActor() actor: Actor,
  ): Promise<WorklistTaskResponse> {
    return this.mpps.complete(id, actor);
  }

  @Post('tasks/:id/discontinue')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Discontinue a task: MPPS N-SET, DISCONTINUED',
    description:
      'An N-SET DISCONTINUED with the end date and time and the reason (CID 9300). Only an in-progress task (one the MPPS SCP holds). Publishes worklist.task.discontinued.',
  })
  @ApiBody({ type: DiscontinueWorklistTaskRequest, required: false })
  @ApiOkResponse({ type: WorklistTaskResponse, description: 'The task, discontinued.' })
  @ApiNotFoundResponse(TASK_NOT_FOUND)
  @ApiConflictResponse(MPPS_CONFLICT)
  @ApiBadGatewayResponse(MPPS_FAILED)
  @ApiServiceUnavailableResponse(UNAVAILABLE)
  discontinue(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: DiscontinueWorklistTaskRequest,
    @CurrentActor() actor: Actor,
  ): Promise<WorklistTaskResponse> {
    return this.mpps.discontinue(id, body.reason, actor);
  }
}
