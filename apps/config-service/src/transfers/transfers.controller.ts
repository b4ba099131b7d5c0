import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiExtraModels,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiBadRequestResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentActor } from '../auth/actor.decorator';
import type { Actor } from '../auth/actor';
import { API_PREFIX } from '../http/configure-http';
import { ProblemResponse, ValidationProblemResponse, problemContent } from '../http/dto/problem.response';
import { CreateTransferRequest } from './dto/create-transfer.request';
import { ListTransferInstancesQuery, ListTransfersQuery } from './dto/list-transfers.query';
import { TransferInstancePage, TransferPage, TransferResponse } from './dto/transfer.response';
import { TransfersErrorsInterceptor } from './transfers-errors.interceptor';
import { TransfersService } from './transfers.service';
import { RequiresRole } from '../auth/requires-role.decorator';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const IdParam = () => ApiParam({ name: 'id', format: 'uuid', description: 'The transfer id.' });
const notFound = () =>
  ApiNotFoundResponse({
    description: 'No transfer has this id.',
    content: problemContent(ProblemResponse, {
      type: 'https://pacslink.dev/problems/transfer-not-found',
      title: 'transfer not found',
      status: 404,
      detail: 'no transfer has id 00000000-0000-4000-8000-000000000000',
    }),
  });

/** The transfers edge (contract "Transfers"): queue, read, list, cancel and retry transfers. */
@ApiTags('transfers')
@RequiresRole('operator')
@ApiExtraModels(ProblemResponse, ValidationProblemResponse)
@UseInterceptors(TransfersErrorsInterceptor)
@Controller('transfers')
export class TransfersController {
  constructor(private readonly service: TransfersService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Queue a transfer of a study (or one series) to or from a PACS',
    description:
      "Export sends a study from the study store to the PACS: C-STORE (DIMSE, up to maxAssociations associations at once) or STOW-RS (DICOMweb). Import brings a study (or one series) from the PACS into the study store: WADO-RS (DICOMweb), or by the configuration's retrieveMethod C-GET, C-MOVE to our Storage SCP, or C-GET falling back to C-MOVE (the transfer's `method` and `fallback` say so); the PACS is asked first what the study holds (`progress.total` is 0 until then), and instances the study store already holds are not fetched again. Progress and the outcome arrive as transfer.* events (RabbitMQ pacslink.events, or GET /api/v1/events).",
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Any 1–255 printable ASCII characters. Repeating a POST with the same key (and the same API key) answers the transfer the first one made, without making another; the same key with a different body is refused (422).',
  })
  @ApiAcceptedResponse({
    type: TransferResponse,
    description: 'Queued (or the transfer this Idempotency-Key made).',
  })
  @ApiBadRequestResponse({
    description: 'Invalid body or Idempotency-Key; each bad field named in `errors`.',
    content: problemContent(ValidationProblemResponse, {
      type: 'https://pacslink.dev/problems/validation',
      title: 'invalid request',
      status: 400,
      detail: 'studyInstanceUid is not a valid UID (PS3.5 9.1): it has a component with a leading zero',
      errors: [
        {
          field: 'studyInstanceUid',
          message: 'studyInstanceUid is not a valid UID (PS3.5 9.1): it has a component with a leading zero',
        },
      ],
    }),
  })
  @ApiConflictResponse({
    description:
      'Transfers are switched off (settings.allowTransfer), or the PACS does not offer this direction (export: cStore / stowRs; import: queryRetrieve / qidoRs).',
    content: problemContent(ProblemResponse, {
      type: 'https://pacslink.dev/problems/transfer-transfer-disabled',
      title: 'transfers are switched off',
      status: 409,
      detail: 'transfers are switched off (settings.allowTransfer is false)',
    }),
  })
  @ApiUnprocessableEntityResponse({
    description:
      'No PACS configuration has pacsConfigId, the study store holds no instance of the study (or series), or the Idempotency-Key was used for another request.',
    content: problemContent(ValidationProblemResponse, {
      type: 'https://pacslink.dev/problems/transfer-study-not-stored',
      title: 'the request names something that does not exist',
      status: 422,
      detail: 'the study store holds no instance of study 1.2.3; upload it first (POST /api/v1/studies)',
      errors: [{ field: 'studyInstanceUid', message: 'the study store holds no instance of study 1.2.3' }],
    }),
  })
  async create(
    @Body() request: CreateTransferRequest,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TransferResponse> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      const message = 'Idempotency-Key must be 1–255 printable ASCII characters without spaces';
      throw new BadRequestException({
        type: 'https://pacslink.dev/problems/validation',
        title: 'invalid request',
        detail: message,
        errors: [{ field: 'Idempotency-Key', message }],
      });
    }
    const transfer = await this.service.create(request, idempotencyKey, actor);
    response.location(`/${API_PREFIX}/transfers/${transfer.id}`);
    return transfer;
  }

  @Get()
  @ApiOperation({ summary: 'List transfers, newest first' })
  @ApiOkResponse({ type: TransferPage })
  list(@Query() query: ListTransfersQuery): Promise<TransferPage> {
    return this.service.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read one transfer: status, progress, method, attempts, error' })
  @IdParam()
  @ApiOkResponse({ type: TransferResponse })
  @notFound()
  get(@Param('id', ParseUUIDPipe) id: string): Promise<TransferResponse> {
    return this.service.get(id);
  }

  @Get(':id/instances')
  @ApiOperation({
    summary: "Each instance of a transfer with the PACS's answer for it",
    description: 'status=failure lists the instances the PACS refused, with its reason.',
  })
  @IdParam()
  @ApiOkResponse({ type: TransferInstancePage })
  @notFound()
  instances(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: ListTransferInstancesQuery,
  ): Promise<TransferInstancePage> {
    return this.service.instances(id, query);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel a queued or running transfer',
    description:
      'Nothing more is dispatched; a batch a worker is already sending finishes (its outcomes are still recorded).',
  })
  @IdParam()
  @ApiOkResponse({ type: TransferResponse })
  @notFound()
  @ApiConflictResponse({ description: 'The transfer is already completed, failed or cancelled.' })
  cancel(@Param('id', ParseUUIDPipe) id: string, @CurrentActor() actor: Actor): Promise<TransferResponse> {
    return this.service.cancel(id, actor);
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Queue a failed or cancelled transfer again',
    description:
      'Export: only the instances the PACS has not accepted are sent again. Import: only the instances not stored yet are fetched (the PACS is asked what the study holds again if it never answered).',
  })
  @IdParam()
  @ApiAcceptedResponse({ type: TransferResponse })
  @notFound()
  @ApiConflictResponse({
    description:
      'The transfer is queued, running or completed; transfers are switched off; the PACS no longer offers the direction; or instances to resend left the study store.',
  })
  retry(@Param('id', ParseUUIDPipe) id: string, @CurrentActor() actor: Actor): Promise<TransferResponse> {
    return this.service.retry(id, actor);
  }
}
