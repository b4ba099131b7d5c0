import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, UseInterceptors } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ProblemResponse, ValidationProblemResponse, problemContent } from '../http/dto/problem.response';
import {
  CreateDicomwebPacsConfigDto,
  CreateDimsePacsConfigDto,
} from '../pacs-configs/dto/create-pacs-config.dto';
import { ConnectionTestErrorsInterceptor } from './connection-test-errors.interceptor';
import { ConnectionTestService } from './connection-test.service';
import { ConnectionTestResponse } from './dto/connection-test.response';
import { TestConnectionRequest, parseUnsavedTestBody } from './dto/test-connection.request';
import { RequiresRole } from '../auth/requires-role.decorator';
import type { Actor } from '../auth/actor';
import { CurrentActor } from '../auth/actor.decorator';

const unsavedBodySchema = {
  description:
    'A full configuration, validated as for POST /pacs-configs (nothing is saved; the AE title need not be unique), plus an optional `callingAeTitle` (DIMSE only).',
  allOf: [
    {
      oneOf: [
        { $ref: getSchemaPath(CreateDicomwebPacsConfigDto) },
        { $ref: getSchemaPath(CreateDimsePacsConfigDto) },
      ],
    },
    { $ref: getSchemaPath(TestConnectionRequest) },
  ],
};

const badRequest = {
  description: 'Invalid body, or callingAeTitle is not one of the local AE titles (named in `errors`).',
  content: problemContent(ValidationProblemResponse, {
    type: 'https://pacslink.dev/problems/validation',
    title: 'invalid request',
    status: 400,
    detail:
      'callingAeTitle "NOBODY" is not a local AE title (the local AE titles are "PACSLINK"); add it with POST /api/v1/local-ae-titles or choose one of those',
    errors: [
      {
        field: 'callingAeTitle',
        message:
          'callingAeTitle "NOBODY" is not a local AE title (the local AE titles are "PACSLINK"); add it with POST /api/v1/local-ae-titles or choose one of those',
      },
    ],
  }),
};
const unavailable = {
  description: "No worker of the configuration's type answered within its timeoutMs + 5 s.",
  content: problemContent(ProblemResponse, {
    type: 'https://pacslink.dev/problems/worker-unavailable',
    title: 'worker unavailable',
    status: 503,
    detail: 'no dimse-worker answered within 35000 ms — is it running?',
  }),
};
const badGateway = {
  description: 'The worker answered that it could not run the test at all (e.g. it refused the request).',
  content: problemContent(ProblemResponse, {
    type: 'https://pacslink.dev/problems/worker-failed',
    title: 'the worker could not run the test',
    status: 502,
    detail: 'dicomweb-worker could not run the test: …',
  }),
};
const okResponse = {
  type: ConnectionTestResponse,
  description:
    "The test ran: `ok` says whether the connection was established. DIMSE: a C-ECHO from callingAeTitle to the configuration's aeTitle; DICOMweb: QIDO-RS studies?limit=1 with the configured auth and the VidarSourceAET / VidarPacsAET headers.",
};

/**
 * The connection test edge (contract "Connection test"). The answer is 200 whether or not the
 * connection could be established; errors are about the request or the workers.
 */
@ApiTags('pacs-configs')
@RequiresRole('operator')
@ApiExtraModels(
  CreateDicomwebPacsConfigDto,
  CreateDimsePacsConfigDto,
  TestConnectionRequest,
  ProblemResponse,
  ValidationProblemResponse,
)
@UseInterceptors(ConnectionTestErrorsInterceptor)
@Controller('pacs-configs')
export class ConnectionTestController {
  constructor(private readonly service: ConnectionTestService) {}

  @Post('test-connection')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Test the connection of a configuration that is not saved',
    description:
      'Audited (pacs-config.tested: who, the destination, the outcome; never a secret). The workers connect only to addresses EGRESS_ALLOW_CIDRS allows, never to link-local or metadata addresses nor to pacslink\'s own broker and database; a refusal is a 200 "Connection failed" naming the address and is audited as egress.refused.',
  })
  @ApiBody({ schema: unsavedBodySchema })
  @ApiOkResponse(okResponse)
  @ApiBadRequestResponse(badRequest)
  @ApiBadGatewayResponse(badGateway)
  @ApiServiceUnavailableResponse(unavailable)
  async testUnsaved(@Body() body: unknown, @CurrentActor() actor: Actor): Promise<ConnectionTestResponse> {
    const { config, callingAeTitle } = await parseUnsavedTestBody(body);
    return this.service.testUnsaved(config, actor, callingAeTitle);
  }

  @Post(':id/test-connection')
  @HttpCode(200)
  @ApiOperation({ summary: 'Test the connection of a saved configuration' })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The configuration id.' })
  @ApiOkResponse(okResponse)
  @ApiBadRequestResponse(badRequest)
  @ApiNotFoundResponse({
    description: 'No PACS configuration has this id.',
    content: problemContent(ProblemResponse, {
      type: 'https://pacslink.dev/problems/pacs-config-not-found',
      title: 'PACS configuration not found',
      status: 404,
      detail: 'no PACS configuration has id 00000000-0000-4000-8000-000000000000',
    }),
  })
  @ApiBadGatewayResponse(badGateway)
  @ApiServiceUnavailableResponse(unavailable)
  testSaved(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: TestConnectionRequest,
    @CurrentActor() actor: Actor,
  ): Promise<ConnectionTestResponse> {
    return this.service.testSaved(id, actor, body.callingAeTitle);
  }
}
