import { Type } from 'class-transformer';
import {
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
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

  it('reports one error per field: the first rule that fails', () => {
    class Query {
      @IsString()
      @IsNotEmpty()
      @MaxLength(5)
      q: string;

      @IsInt()
      @Min(1)
      @Max(10)
      amount: number;
    }
    // "10" breaks isInt, min and max at once; a number too long for q breaks isString and maxLength.
    expect(validatePayload(Query, { q: 123456, amount: '10' }, '').errors).toEqual([
      { field: 'q', rule: 'isString', message: 'q must be a string' },
      { field: 'amount', rule: 'isInt', message: 'amount must be an integer number' },
    ]);
    expect(validatePayload(Query, { q: 'toolong', amount: 11 }, '').errors.map((e) => e.rule)).toEqual([
      'maxLength',
      'max',
    ]);
  });

  it('reports a missing field as required, and nothing else about it', () => {
    class Query {
      @IsString()
      @IsNotEmpty()
      @MaxLength(2000)
      q: string;
    }
    expect(validatePayload(Query, {}, '').errors).toEqual([{ field: 'q', rule: 'required', message: 'q is required' }]);
    expect(validatePayload(Query, {}).errors).toEqual([
      { field: 'args.q', rule: 'required', message: 'args.q is required' },
    ]);
  });

  it('keeps the own rule of a field required only in some cases, which says when', () => {
    class Mail {
      @IsOptional()
      @IsString()
      text?: string;

      @ValidateIf((o: Mail) => o.text === undefined)
      @IsIn(['notice'], { message: 'template must be notice (or give text)' })
      template?: string;
    }
    expect(validatePayload(Mail, {}).errors).toEqual([
      { field: 'args.template', rule: 'isIn', message: 'args.template must be notice (or give text)' },
    ]);
  });
});
