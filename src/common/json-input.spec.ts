import { BadRequestException, ParseUUIDPipe } from '@nestjs/common';
import { frameworkFieldErrors } from './framework-errors.filter';
import { jsonInputProblem, MAX_JSON_DEPTH } from './json-input';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

describe('jsonInputProblem', () => {
  it('accepts ordinary JSON up to the depth limit', () => {
    expect(jsonInputProblem({ a: [{ b: 'text 中文 😀' }], n: 1, z: null })).toBeUndefined();
    expect(jsonInputProblem({ deep: nested(MAX_JSON_DEPTH - 1) })).toBeUndefined();
  });

  it('names the top-level field that nests too deep, at any depth, without recursion', () => {
    expect(jsonInputProblem({ args: nested(MAX_JSON_DEPTH) })).toMatchObject({ field: 'args', rule: 'maxDepth' });
    expect(jsonInputProblem(nested(200_000))).toMatchObject({ field: 'body', rule: 'maxDepth' });
    expect(jsonInputProblem({ a: nested(100) }, 'args')).toMatchObject({ field: 'args.a', rule: 'maxDepth' });
  });

  it('refuses strings and keys PostgreSQL cannot store', () => {
    expect(jsonInputProblem({ text: 'a\u0000b' })).toMatchObject({ field: 'text', rule: 'noNulCharacter' });
    expect(jsonInputProblem({ list: ['ok', '\uD800'] })).toMatchObject({ field: 'list', rule: 'isWellFormedUnicode' });
    expect(jsonInputProblem({ ['k\u0000']: 1 })).toMatchObject({ rule: 'noNulCharacter' });
    expect(jsonInputProblem({ '': nested(100) })).toMatchObject({ field: '""' });
    expect(jsonInputProblem({ pair: '\uD83D\uDE00' })).toBeUndefined();
  });
});

describe('frameworkFieldErrors', () => {
  it('gives a bare JSON, percent-encoding or UUID 400 a field and a rule', async () => {
    const json = new BadRequestException('Unexpected end of JSON input', { cause: new SyntaxError('x') });
    expect(frameworkFieldErrors(json, undefined)).toEqual([expect.objectContaining({ field: 'body', rule: 'isJson' })]);
    const uri = new BadRequestException("Failed to decode param '%FF'", { cause: new URIError('x') });
    expect(frameworkFieldErrors(uri, undefined)).toEqual([expect.objectContaining({ field: 'path' })]);
    const uuid = await new ParseUUIDPipe().transform('nope', { type: 'param', data: 'taskId' }).catch((e) => e);
    const request = { params: { taskId: 'nope' } } as never;
    expect(frameworkFieldErrors(uuid, request)).toEqual([
      { field: 'taskId', rule: 'isUuid', message: 'taskId must be a uuid' },
    ]);
  });

  it('leaves field errors and other statuses alone', () => {
    const shaped = new BadRequestException({ errors: [{ field: 'a', rule: 'b', message: 'c' }] });
    expect(frameworkFieldErrors(shaped, undefined)).toBeUndefined();
  });
});
