import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

// The OpenAPI shape of the application/problem+json answers that ProblemDetailsFilter writes
// (RFC 9457). A controller that uses them names them in @ApiExtraModels, since they are referenced
// by $ref.

export class FieldErrorResponse {
  @ApiProperty({ example: 'aeTitle' }) field!: string;
  @ApiProperty({ example: 'aeTitle must be at most 16 characters after trimming spaces (has 17)' })
  message!: string;
}

export class ProblemResponse {
  @ApiProperty({ example: 'about:blank', description: 'a URI naming the kind of problem' }) type!: string;
  @ApiProperty({ example: 'not found', description: 'a short summary of the kind of problem' })
  title!: string;
  @ApiProperty({ example: 404, description: 'the HTTP status' }) status!: number;
  @ApiProperty({ example: 'there is no local AE title "CT1"', description: 'what went wrong, for a person' })
  detail!: string;
}

export class ValidationProblemResponse extends ProblemResponse {
  @ApiProperty({ type: [FieldErrorResponse], description: 'each bad field and why' })
  errors!: FieldErrorResponse[];
}

/** The type of every 400 that names bad fields. */
export const VALIDATION_PROBLEM_TYPE = 'https://pacslink.dev/problems/validation';

/** An OpenAPI response `content`: an application/problem+json body of `model`, with one example. */
export function problemContent(
  model: typeof ProblemResponse | typeof ValidationProblemResponse,
  example: ProblemResponse | ValidationProblemResponse,
) {
  return { 'application/problem+json': { schema: { $ref: getSchemaPath(model) }, example } };
}

/** The 401 every /api/v1 route answers when API_KEYS is set and the key is missing or wrong. */
export const unauthorizedResponse = {
  description: 'no API key, or one that API_KEYS does not list',
  content: problemContent(ProblemResponse, {
    type: 'about:blank',
    title: 'authentication required',
    status: 401,
    detail: 'send "Authorization: Bearer <API key>"',
  }),
};
