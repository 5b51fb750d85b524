import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { validatePayload } from './field-errors';

class Inner {
  @IsString()
  label: string;
}

class Payload {
  @IsInt()
  @Min(1)
  amount: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => Inner)
  inner?: Inner;
}

describe('validatePayload', () => {
  it('accepts a valid payload and returns an instance', () => {
    const { value, errors } = validatePayload(Payload, { amount: 2, inner: { label: 'x' } });
    expect(errors).toEqual([]);
    expect(value).toBeInstanceOf(Payload);
  });

  it('names nested fields, rules and unknown properties', () => {
    const { errors } = validatePayload(Payload, { amount: 0, inner: { label: 5 }, extra: true });
    expect(errors).toEqual(
      expect.arrayContaining([
        { field: 'args.amount', rule: 'min', message: 'args.amount must not be less than 1' },
        expect.objectContaining({ field: 'args.inner.label', rule: 'isString' }),
        { field: 'args.extra', rule: 'whitelistValidation', message: 'args.extra is not an accepted property' },
      ]),
    );
  });

  it('names the full path in messages about each element of an array', () => {
    class Mail {
      @IsEmail({}, { each: true })
      bcc: string[];
    }
    expect(validatePayload(Mail, { bcc: ['nope'] }).errors).toEqual([
      { field: 'args.bcc', rule: 'isEmail', message: 'each value in args.bcc must be an email' },
    ]);
  });

  it('rejects non-objects', () => {
    expect(validatePayload(Payload, [1]).errors).toEqual([
      { field: 'args', rule: 'isObject', message: 'args must be an object' },
    ]);
    expect(validatePayload(Payload, 'x', 'tasks.3.args').errors[0].field).toBe('tasks.3.args');
  });

  it('accepts any properties when not strict', () => {
    class Anything {}
    expect(validatePayload(Anything, { a: 1 }, 'args', false).errors).toEqual([]);
  });
});
