import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { uidProblem } from './uid';

function problemOf(value: unknown): string {
  if (typeof value !== 'string') return `must be a string, not ${value === null ? 'null' : typeof value}`;
  return uidProblem(value) ?? 'is valid';
}

/**
 * class-validator decorator for a DICOM UID (PS3.5 9.1, VR UI) by the one rule in ./uid, for DTOs
 * and message contracts; the message names the property and what is wrong with its value.
 */
export function IsDicomUid(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isDicomUid',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && uidProblem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'value'} is not a valid UID (PS3.5 9.1): it ${problemOf(args?.value)}`,
      },
    },
    options,
  );
}
