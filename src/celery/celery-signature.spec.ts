import { bindCall, parseSignature } from './celery-signature';

describe('Celery signatures', () => {
  const sut = parseSignature('send_email(to, subject, text=None, *rest, **options)');

  it('parses required, defaulted, *args and **kwargs parameters', () => {
    expect(sut).toEqual({
      name: 'send_email',
      params: [
        { name: 'to', field: 'to', required: true },
        { name: 'subject', field: 'subject', required: true },
        { name: 'text', field: 'text', required: false },
      ],
      varArgs: 'rest',
      varKwargs: true,
    });
  });

  it('binds positional then keyword arguments, snake_case keywords onto camelCase fields', () => {
    const signature = parseSignature('consume(account_id, amount, reason=None)');
    expect(bindCall(signature, ['a-1'], { amount: 5, reason: 'r' })).toEqual({
      accountId: 'a-1',
      amount: 5,
      reason: 'r',
    });
    expect(bindCall(signature, [], { accountId: 'a-1', amount: 5 })).toEqual({ accountId: 'a-1', amount: 5 });
    expect(bindCall(sut, ['x@y', 's', 't', 1, 2], { reply_to: 'z' })).toEqual({
      to: 'x@y',
      subject: 's',
      text: 't',
      rest: [1, 2],
      replyTo: 'z',
    });
  });

  it("raises Python's TypeErrors for calls that do not fit", () => {
    const signature = parseSignature('process_file(file_id)');
    expect(() => bindCall(signature, ['a', 'b'], {})).toThrow(
      'process_file() takes 1 positional argument but 2 were given',
    );
    expect(() => bindCall(signature, [], {})).toThrow(
      "process_file() missing 1 required positional argument: 'file_id'",
    );
    expect(() => bindCall(signature, ['a'], { file_id: 'b' })).toThrow(
      "process_file() got multiple values for argument 'file_id'",
    );
    expect(() => bindCall(signature, ['a'], { other: 1 })).toThrow(
      "process_file() got an unexpected keyword argument 'other'",
    );
  });

  it('keeps keyword names as given for tasks that accept any arguments', () => {
    expect(bindCall(parseSignature('noop(*args, **kwargs)'), [1], { some_key: 2 }, true)).toEqual({
      args: [1],
      some_key: 2,
    });
  });

  it('refuses a malformed declaration', () => {
    expect(() => parseSignature('not a signature')).toThrow('is not of the form');
  });
});
