import { OpenAPIObject } from '@nestjs/swagger';
import { completeOpenApiDocument } from './openapi-completion';
import { operationIdFactory } from './openapi';

const document = (): OpenAPIObject => ({
  openapi: '3.0.0',
  info: { title: 't', version: '1' },
  paths: {
    '/health/live': { get: { responses: { '200': { description: 'ok' } } } },
    '/tasks': {
      post: {
        security: [{ bearer: [] }],
        parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
        responses: { '201': { description: '' } },
      },
      get: {
        security: [{ bearer: [] }],
        parameters: [
          { name: 'limit', in: 'query', required: false, schema: { default: 50, minimum: 1, maximum: 500 } },
        ],
        responses: { '200': { description: '' } },
      },
    },
    '/tasks/{id}': {
      get: {
        security: [{ bearer: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: '' } },
      },
    },
  },
});

describe('completeOpenApiDocument', () => {
  const sut = completeOpenApiDocument(document(), 'ErrorResponseDto', 'TaskViewDto');

  it('marks routes without a key as public', () => {
    expect(sut.paths['/health/live'].get!.security).toEqual([]);
    expect(sut.paths['/tasks'].get!.security).toEqual([{ bearer: [] }]);
  });

  it('documents a submission as 202 with the task, and 200 on an idempotent repeat', () => {
    const responses = sut.paths['/tasks'].post!.responses;
    expect(Object.keys(responses).sort()).toEqual(['200', '202', '400', '401', '422']);
    expect(responses['202']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TaskViewDto' } } },
    });
  });

  it('names the 4xx each operation can answer, with the one error schema', () => {
    const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponseDto' } } } };
    expect(sut.paths['/tasks/{id}'].get!.responses).toMatchObject({ '400': error, '401': error, '404': error });
    expect(sut.paths['/tasks'].get!.responses['404']).toBeUndefined();
    expect(Object.keys(sut.paths['/health/live'].get!.responses)).toEqual(['200']);
  });

  it('types numeric query parameters declared without a type', () => {
    expect(sut.paths['/tasks'].get!.parameters![0]).toMatchObject({ schema: { type: 'integer', default: 50 } });
  });
});

describe('operationIdFactory', () => {
  it('names an operation by resource and action, without "Controller"', () => {
    expect(operationIdFactory('TasksController', 'submit')).toBe('tasksSubmit');
    expect(operationIdFactory('ApiCallsController', 'webhook')).toBe('apiCallsWebhook');
  });
});
