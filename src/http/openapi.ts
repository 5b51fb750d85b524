import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { completeOpenApiDocument } from './openapi-completion';
import { TaskViewDto } from '../tasks/http/dto/task-view.dto';
import { ERROR_SCHEMA_NAME, ErrorResponseDto } from './error-response.dto';

/**
 * The OpenAPI document of the service, as a client generator needs it: a server, the bearer key
 * scheme (opaque keys, not JWTs), operation ids named after resource and action (`tasksSubmit`),
 * and the completions of {@link completeOpenApiDocument} (security, errors, status codes).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Task service')
    .setDescription(
      'Asynchronous tasks (files, e-mail, credits, outbound API calls, statistics): submit, poll or stream, cancel. ' +
        'Every route but the health probes takes an API key as a bearer token.',
    )
    .setVersion('1')
    .addServer('/', 'This service')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'API key',
      description: 'An API key (tsk_…) made with `task-service apikey create`, or the admin key',
    })
    .build();
  config.info.license = { name: 'UNLICENSED' };
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory,
    extraModels: [ErrorResponseDto, TaskViewDto],
  });
  return completeOpenApiDocument(document, ERROR_SCHEMA_NAME, TaskViewDto.name);
}

/** `TasksController.submit` → `tasksSubmit`: unique across controllers, without the `Controller` noise. */
export function operationIdFactory(controllerKey: string, methodKey: string): string {
  const resource = controllerKey.replace(/Controller$/, '');
  return `${resource.charAt(0).toLowerCase()}${resource.slice(1)}${methodKey.charAt(0).toUpperCase()}${methodKey.slice(1)}`;
}
