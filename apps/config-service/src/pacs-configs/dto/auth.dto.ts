import { applyDecorators, type Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { plainToInstance, Transform } from 'class-transformer';
import { Equals, IsIn, IsObject, IsOptional, ValidateIf, ValidateNested } from 'class-validator';
import { AuthMethods, type AuthMethod } from '../pacs-config.entity';
import { presence, type Presence } from './pacs-config-fields';
import {
  Satisfies,
  URL_MAX_LENGTH,
  basicUsernameProblem,
  bearerTokenProblem,
  httpUrlProblem,
  textProblem,
} from './pacs-config.validators';

/*
 * DICOMweb authentication: a union discriminated by `method`. Secrets (password, token,
 * clientSecret) are write-only. On create each method's secret is required; on a PATCH it may be
 * left out to keep the stored one while the method, the user or client it belongs to, and where it
 * is sent (scheme, host and port of the url, and of the tokenUrl for OAuth2) stay the same.
 */

const isPresent = (_: object, value: unknown): boolean => value !== undefined;

const Method = (method: AuthMethod): PropertyDecorator =>
  applyDecorators(ApiProperty({ enum: [method], example: method }), Equals(method));

const Secret = (required: boolean, description: string, keptWhen: string, rule: PropertyDecorator) => {
  const doc = { type: String, writeOnly: true, description };
  return applyDecorators(
    ...(required
      ? [ApiProperty(doc)]
      : [
          ValidateIf(isPresent),
          ApiPropertyOptional({ ...doc, description: `${description} Left out: kept when ${keptWhen}.` }),
        ]),
    rule,
  );
};

const Password = (required: boolean) =>
  Secret(
    required,
    'Password (write-only).',
    'the method stays basic, the username is the same and the url keeps its scheme, host and port',
    Satisfies('isSecretText', textProblem(1024, { secret: true, blankAllowed: true })),
  );
const Token = (required: boolean) =>
  Secret(
    required,
    'Bearer token, visible ASCII (write-only).',
    'the method stays bearer and the url keeps its scheme, host and port',
    Satisfies('isBearerToken', bearerTokenProblem),
  );
const ClientSecret = (required: boolean) =>
  Secret(
    required,
    'Client secret (write-only).',
    'the method and clientId stay the same, and the url and tokenUrl keep their scheme, host and port',
    Satisfies('isSecretText', textProblem(1024, { secret: true, blankAllowed: true })),
  );

const Username = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ type: String, example: 'viewer', maxLength: 256, description: 'No colon (RFC 7617).' }),
    Satisfies('isBasicUsername', basicUsernameProblem),
  );
const TokenUrl = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({
      type: String,
      format: 'uri',
      description: 'OAuth2 token endpoint: absolute http:// or https:// URL.',
      example: 'https://auth.example.org/realms/pacs/protocol/openid-connect/token',
      maxLength: URL_MAX_LENGTH,
    }),
    Satisfies('isHttpUrl', httpUrlProblem),
  );
const ClientId = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ type: String, example: 'pacslink', maxLength: 256 }),
    Satisfies('isClientId', textProblem(256)),
  );
const Scope = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ type: String, example: 'dicomweb.read dicomweb.write', maxLength: 1024 }),
    IsOptional(),
    Satisfies('isScope', textProblem(1024)),
  );

export class NoAuthDto {
  @Method('none') method!: 'none';
}

export class BasicAuthDto {
  @Method('basic') method!: 'basic';
  @Username() username!: string;
  @Password(true) password!: string;
}

export class BearerAuthDto {
  @Method('bearer') method!: 'bearer';
  @Token(true) token!: string;
}

export class OAuth2ClientCredentialsAuthDto {
  @Method('oauth2-client-credentials') method!: 'oauth2-client-credentials';
  @TokenUrl() tokenUrl!: string;
  @ClientId() clientId!: string;
  @ClientSecret(true) clientSecret!: string;
  @Scope() scope?: string;
}

export class BasicAuthPatchDto {
  @Method('basic') method!: 'basic';
  @Username() username!: string;
  @Password(false) password?: string;
}

export class BearerAuthPatchDto {
  @Method('bearer') method!: 'bearer';
  @Token(false) token?: string;
}

export class OAuth2ClientCredentialsAuthPatchDto {
  @Method('oauth2-client-credentials') method!: 'oauth2-client-credentials';
  @TokenUrl() tokenUrl!: string;
  @ClientId() clientId!: string;
  @ClientSecret(false) clientSecret?: string;
  @Scope() scope?: string;
}

/** What an unknown `method` becomes: only the method is checked, so the error names just `auth.method`. */
export class UnknownAuthMethodDto {
  @IsIn(AuthMethods, { message: `method must be one of: ${AuthMethods.join(', ')}` })
  method!: string;
}

export type AuthDto = NoAuthDto | BasicAuthDto | BearerAuthDto | OAuth2ClientCredentialsAuthDto;
export type AuthPatchDto =
  NoAuthDto | BasicAuthPatchDto | BearerAuthPatchDto | OAuth2ClientCredentialsAuthPatchDto;

const createClasses: Record<AuthMethod, Type> = {
  none: NoAuthDto,
  basic: BasicAuthDto,
  bearer: BearerAuthDto,
  'oauth2-client-credentials': OAuth2ClientCredentialsAuthDto,
};
const patchClasses: Record<AuthMethod, Type> = {
  none: NoAuthDto,
  basic: BasicAuthPatchDto,
  bearer: BearerAuthPatchDto,
  'oauth2-client-credentials': OAuth2ClientCredentialsAuthPatchDto,
};

export const authRequestModels = [
  ...new Set([...Object.values(createClasses), ...Object.values(patchClasses)]),
];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Picks the class of `auth` by its `method`, so that each method is validated by its own rules. */
function toAuthInstance(value: unknown, classes: Record<AuthMethod, Type>): unknown {
  if (!isPlainObject(value)) return value;
  const method = value.method;
  const known = typeof method === 'string' && Object.hasOwn(classes, method);
  return known
    ? plainToInstance(classes[method as AuthMethod], value)
    : plainToInstance(UnknownAuthMethodDto, { method });
}

/** The `auth` property: validated per method, documented as a oneOf discriminated by `method`. */
export function AuthField(mode: Presence, variant: 'create' | 'patch'): PropertyDecorator {
  const classes = variant === 'create' ? createClasses : patchClasses;
  const mapping = Object.fromEntries(
    Object.entries(classes).map(([method, type]) => [method, getSchemaPath(type)]),
  );
  return applyDecorators(
    presence(mode, {
      description:
        variant === 'create'
          ? 'How to authenticate to the DICOMweb service. Default: {"method":"none"}.'
          : 'Replaces the authentication as a whole; a secret left out is kept as described per method.',
      oneOf: Object.values(classes).map((type) => ({ $ref: getSchemaPath(type) })),
      discriminator: { propertyName: 'method', mapping },
    }),
    Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) =>
      toAuthInstance(obj[key], classes),
    ),
    IsObject(),
    ValidateNested(),
  );
}
