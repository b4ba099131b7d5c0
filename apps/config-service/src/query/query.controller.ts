import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, UseInterceptors } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ProblemResponse, ValidationProblemResponse, problemContent } from '../http/dto/problem.response';
import { QueryRequest } from './dto/query.request';
import { QueryResponse } from './dto/query.response';
import { QueryErrorsInterceptor } from './query-errors.interceptor';
import { QueryService } from './query.service';
import { RequiresRole } from '../auth/requires-role.decorator';
import type { Actor } from '../auth/actor';
import { CurrentActor } from '../auth/actor.decorator';

const WRONG_DATE = 'filters.StudyDate: "2024-01-01" is not a date or a date range (A-B, -B or A-)';

/**
 * The query edge (contract "Query"): finds studies, series or instances on a PACS that offers
 * import, over C-FIND or QIDO-RS, answering DICOM JSON of the same shape for both.
 */
@ApiTags('pacs-configs')
@RequiresRole('operator')
@ApiExtraModels(ProblemResponse, ValidationProblemResponse)
@UseInterceptors(QueryErrorsInterceptor)
@Controller('pacs-configs')
export class QueryController {
  constructor(private readonly service: QueryService) {}

  @Post(':id/query')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Query a PACS for studies, series or instances',
    description:
      "DIMSE: a Study Root C-FIND (STUDY, SERIES or IMAGE level) from the configuration's queryAeTitle (default: the settings' defaultCallingAeTitle) to its aeTitle. DICOMweb: QIDO-RS studies, series or instances with the configured auth and the VidarSourceAET / VidarPacsAET headers. Both ask for the same attributes and answer the same DICOM JSON shape. Only for configurations that offer import (DICOMweb with qidoRs, DIMSE with queryRetrieve), and only while settings.allowTransfer is true.",
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The configuration id.' })
  @ApiBody({
    type: QueryRequest,
    examples: {
      byName: {
        summary: 'Studies by patient name and date range',
        value: {
          level: 'study',
          filters: { PatientName: 'DOE^J*', StudyDate: '20240101-20240131' },
          limit: 20,
        },
      },
      seriesOfStudy: {
        summary: 'The series of one study',
        value: { level: 'series', filters: { StudyInstanceUID: '1.2.826.0.1.3680043.8.498.1' } },
      },
    },
  })
  @ApiOkResponse({
    type: QueryResponse,
    description: 'The matches, at most `limit`, after skipping `offset`.',
  })
  @ApiBadRequestResponse({
    description: 'Invalid body: each bad filter is named as filters.<Keyword> in `errors`.',
    content: problemContent(ValidationProblemResponse, {
      type: 'https://pacslink.dev/problems/validation',
      title: 'invalid request',
      status: 400,
      detail: WRONG_DATE,
      errors: [{ field: 'filters.StudyDate', message: WRONG_DATE }],
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
    description:
      'The configuration does not offer import (no qidoRs / queryRetrieve), or transfers are switched off (settings.allowTransfer is false).',
    content: problemContent(ProblemResponse, {
      type: 'https://pacslink.dev/problems/transfers-disabled',
      title: 'transfers are switched off',
      status: 409,
      detail:
        'transfers are switched off (settings.allowTransfer is false), so no PACS is offered for import: switch them on with PUT /api/v1/settings',
    }),
  })
  @ApiBadGatewayResponse({
    description:
      'The PACS query failed at the worker: refused, timed out, association rejected or aborted, a failure status, an HTTP error such as 401, not a DICOMweb endpoint, or a destination the egress policy refuses ("Connection failed: 127.0.0.1:4242 (127.0.0.1) is not an allowed PACS address (EGRESS_ALLOW_CIDRS)", audited as egress.refused).',
    content: problemContent(ProblemResponse, {
      type: 'https://pacslink.dev/problems/query-failed',
      title: 'the PACS query failed',
      status: 502,
      detail:
        'the query of "ORTHANC" failed: association rejected permanently by the called AE (service user): called AE title not recognized — the PACS does not answer to AE title ORTHANC; check its AE title',
    }),
  })
  @ApiServiceUnavailableResponse({
    description: "No worker of the configuration's type answered within its timeoutMs + 5 s.",
    content: problemContent(ProblemResponse, {
      type: 'https://pacslink.dev/problems/worker-unavailable',
      title: 'worker unavailable',
      status: 503,
      detail: 'no dimse-worker answered within 35000 ms — is it running?',
    }),
  })
  query(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: QueryRequest,
    @CurrentActor() actor: Actor,
  ): Promise<QueryResponse> {
    return this.service.query(id, body, actor);
  }
}
