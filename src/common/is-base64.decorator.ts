import { ValidationOptions, registerDecorator } from 'class-validator';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Standard base64 (RFC 4648, padded). class-validator's `@IsBase64` overflows the stack on
 * strings of a few megabytes (a 500 for a large attachment); this check is linear.
 */
export function IsBase64Content(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isBase64',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be base64 encoded`, ...options },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && value.length % 4 === 0 && BASE64.test(value),
      },
    });
}
