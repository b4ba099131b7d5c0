import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor } from '../auth/actor.decorator';
import type { Actor } from '../auth/actor';
import {
  ProblemResponse,
  VALIDATION_PROBLEM_TYPE,
  ValidationProblemResponse,
  problemContent,
} from '../http/dto/problem.response';
import { SettingsResponse } from './dto/settings.response';
import { UpdateSettingsRequest } from './dto/update-settings.request';
import { SettingsService } from './settings.service';
import { RequiresRole } from '../auth/requires-role.decorator';

@ApiTags('settings')
@RequiresRole('operator')
@ApiExtraModels(ProblemResponse, ValidationProblemResponse)
@Controller('settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @ApiOperation({ summary: 'The settings' })
  @ApiOkResponse({ type: SettingsResponse })
  async get(): Promise<SettingsResponse> {
    return SettingsResponse.from(await this.settings.current());
  }

  @Put()
  @RequiresRole('admin')
  @ApiOperation({
    summary: 'Replace the settings',
    description: 'Both fields are required. Every change is written to the audit log (settings.updated).',
  })
  @ApiOkResponse({ type: SettingsResponse, description: 'the stored settings' })
  @ApiBadRequestResponse({
    description:
      'a missing, mistyped or unknown field, an invalid AE title, or a defaultCallingAeTitle that is not one of the local AE titles',
    content: problemContent(ValidationProblemResponse, {
      type: VALIDATION_PROBLEM_TYPE,
      title: 'invalid request',
      status: 400,
      detail:
        'defaultCallingAeTitle "CT1" is not a local AE title (the local AE titles are "PACSLINK"); ' +
        'add it with POST /api/v1/local-ae-titles or choose one of those',
      errors: [
        {
          field: 'defaultCallingAeTitle',
          message:
            'defaultCallingAeTitle "CT1" is not a local AE title (the local AE titles are "PACSLINK"); ' +
            'add it with POST /api/v1/local-ae-titles or choose one of those',
        },
      ],
    }),
  })
  async update(@Body() body: UpdateSettingsRequest, @CurrentActor() actor: Actor): Promise<SettingsResponse> {
    return SettingsResponse.from(await this.settings.update(actor, body));
  }
}
