import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import { VALIDATION_PROBLEM_TYPE } from './dto/problem.response';

export interface FieldError {
  field: string;
  message: string;
}

export function fieldErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = `${prefix}${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldErrors(error.children ?? [], `${field}.`)];
  });
}

/**
 * Validates every body, query and path DTO: unknown fields are refused (400), never silently
 * dropped, and the answer names each bad field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const list = fieldErrors(errors);
      return new BadRequestException({
        type: VALIDATION_PROBLEM_TYPE,
        title: 'invalid request',
        detail: list.map((error) => error.message).join('; '),
        errors: list,
      });
    },
  });
}
