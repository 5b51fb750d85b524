import { BadRequestException, Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError, ValidationTypes } from 'class-validator';
import { jsonInputProblem } from './json-input';

/** One broken rule of one field, as returned in 400 bodies. */
export interface FieldError {
  field: string;
  rule: string;
  message: string;
}

/** Flattens class-validator's tree into `field` paths such as `args.recipients.0`. */
export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    // An empty key (`{"": 1}`) is named `""`, so every error names a field.
    const property = error.property === '' ? '""' : error.property;
    const field = prefix ? `${prefix}.${property}` : property;
    const first = firstBrokenRule(error);
    const own = first
      ? [
          {
            field,
            rule: first[0],
            // class-validator words this one "property x should not exist"; say it with the full path.
            message:
              first[0] === 'whitelistValidation'
                ? `${field} is not an accepted property`
                : first[0] === 'required'
                  ? `${field} is required`
                  : withPath(first[1], property, field),
          },
        ]
      : [];
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/**
 * One error per field: the first rule that fails. A missing field is `required` (its length or
 * format rules say nothing then); otherwise a type or format rule (`isInt`, `isString`, `isUuid`…)
 * comes before a range rule (`min`, `maxLength`…), and rules otherwise count in the order the
 * class declares them (class-validator lists them last-declared first).
 */
function firstBrokenRule(error: ValidationError): [string, string] | undefined {
  const broken = Object.entries(error.constraints ?? {}).reverse();
  if (broken.length === 0) return undefined;
  if (error.value === undefined && !broken.some(([rule]) => rule === 'whitelistValidation') && !isConditional(error))
    return ['required', ''];
  return broken.find(([rule]) => /^is[A-Z]/.test(rule)) ?? broken[0];
}

/**
 * A field required only in some cases (`@ValidateIf`, e.g. a template unless text is given):
 * its own rule's message says when, which a bare "is required" would not.
 */
function isConditional(error: ValidationError): boolean {
  const target = error.target?.constructor;
  if (!target) return false;
  return getMetadataStorage()
    .getTargetValidationMetadatas(target, '', true, false)
    .some((m) => m.propertyName === error.property && m.type === ValidationTypes.CONDITIONAL_VALIDATION);
}

/**
 * class-validator names the bare property ("ms must be…", "each value in bcc must be…"); say the
 * full path instead, wherever in the sentence the property stands.
 */
function withPath(message: string, property: string, field: string): string {
  if (field === property) return message;
  const rest = message.slice(property.length);
  if (message.startsWith(property) && (rest.startsWith(' ') || rest.startsWith('.'))) return field + rest;
  const inner = ` ${property} `;
  if (message.includes(inner)) return message.replace(inner, ` ${field} `);
  return `${field}: ${message}`;
}

/** A 400 whose body names every field and rule that failed. */
export function fieldErrorsException(errors: FieldError[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: errors.map((e) => e.message),
    errors,
  });
}

export const VALIDATION_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  // The value tells a missing field (required) from a wrong one; the target, a field required
  // only in some cases (see firstBrokenRule). Neither is sent: errors are flattened to field, rule, message.
  validationError: { target: true, value: true },
} as const;

/**
 * Validates a task payload against its class. Returns the transformed instance, or the field
 * errors (paths prefixed with `prefix`).
 */
export function validatePayload<T extends object>(
  cls: Type<T>,
  raw: unknown,
  prefix = 'args',
  strict = true,
): { value: T; errors: FieldError[] } {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { value: {} as T, errors: [{ field: prefix, rule: 'isObject', message: `${prefix} must be an object` }] };
  }
  // class-transformer recurses (a payload nested thousands deep would overflow the stack), and
  // PostgreSQL cannot store NUL or an unpaired surrogate: refuse them here as field errors.
  const unstorable = jsonInputProblem(raw, prefix);
  if (unstorable) return { value: {} as T, errors: [unstorable] };
  const value = plainToInstance(cls, raw);
  const errors = flattenValidationErrors(
    validateSync(value, strict ? VALIDATION_OPTIONS : { forbidUnknownValues: false }),
    prefix,
  );
  return { value, errors };
}
