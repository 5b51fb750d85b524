import { OpenAPIObject } from '@nestjs/swagger';
import {
  OperationObject,
  ParameterObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * Completes what Nest's explorer leaves out of every operation, so that no route needs the same
 * decorators repeated:
 * - routes without `@ApiBearerAuth` (the health probes) say `security: []`, i.e. public;
 * - each operation names its 4xx answers with the one error schema: 400 where it takes input,
 *   401 where it takes a key, 404 where its path names a resource, 422 where it takes an
 *   Idempotency-Key (reused with another payload);
 * - a task submission (a POST that takes `Idempotency-Key`, documented only as Nest's default 201)
 *   answers 202 with the task, or 200 with the earlier task on an idempotent repeat;
 * - query numbers declared without a TypeScript type annotation (`limit = 50`) get `integer`.
 */
export function completeOpenApiDocument(
  document: OpenAPIObject,
  errorSchema: string,
  taskSchema?: string,
): OpenAPIObject {
  const error = (description: string): ResponseObject => ({
    description,
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${errorSchema}` } } },
  });
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operation.security ??= [];
      const parameters = (operation.parameters ?? []).filter(isParameter);
      parameters.forEach(typeNumbers);
      if (taskSchema && method === 'post' && isSubmission(operation, parameters))
        answerAsSubmission(operation, taskSchema);
      const { responses } = operation;
      if (parameters.length > 0 || operation.requestBody)
        responses['400'] ??= error('A field is missing or breaks a rule; `errors` names each field and rule');
      if (operation.security.length > 0) responses['401'] ??= error('No API key, or one this service does not know');
      if (path.includes('{')) responses['404'] ??= error('No such resource, or not one this key may see');
      if (parameters.some(isIdempotencyKey))
        responses['422'] ??= error('This Idempotency-Key was used before with another payload');
    }
  }
  return document;
}

function isParameter(parameter: ParameterObject | ReferenceObject): parameter is ParameterObject {
  return !('$ref' in parameter);
}

function typeNumbers(parameter: ParameterObject): void {
  const schema = parameter.schema as SchemaObject | undefined;
  if (!schema || schema.type || '$ref' in schema) return;
  const bounds = [schema.default, schema.minimum, schema.maximum].filter((v) => v !== undefined);
  if (bounds.length > 0 && bounds.every((v) => Number.isInteger(v))) schema.type = 'integer';
}

function isIdempotencyKey(parameter: ParameterObject): boolean {
  return parameter.in === 'header' && parameter.name.toLowerCase() === 'idempotency-key';
}

function isSubmission(operation: OperationObject, parameters: ParameterObject[]): boolean {
  const takesKey = parameters.some(isIdempotencyKey);
  const codes = Object.keys(operation.responses);
  return (
    takesKey && codes.length === 1 && codes[0] === '201' && !(operation.responses['201'] as ResponseObject).content
  );
}

function answerAsSubmission(operation: OperationObject, taskSchema: string): void {
  const task = { 'application/json': { schema: { $ref: `#/components/schemas/${taskSchema}` } } };
  delete operation.responses['201'];
  operation.responses['202'] = { description: 'Accepted: the task is recorded and queued', content: task };
  operation.responses['200'] = {
    description: 'The earlier task of this Idempotency-Key (same payload): nothing new was submitted',
    content: task,
  };
}
