import { validatePayload } from '../common/field-errors';
import { SubmitRequest } from '../tasks/submit/task-submission.service';
import { RegisteredTask } from '../tasks/task-registry.service';
import { CeleryTaskMessage } from './celery-message';
import { bindCall, CeleryCallError, keywordOnly, parseSignature } from './celery-signature';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why a Celery call cannot become a task; the caller sees it as a FAILURE with this exception. */
export class CeleryRefusal extends Error {
  constructor(
    readonly excType: string,
    message: string,
  ) {
    super(message);
    this.name = excType;
  }
}

/**
 * Turns one Celery call into a submit request: the record id is the Celery task id, positional
 * and keyword arguments are bound through the task's Celery signature and validated against its
 * payload class, `eta`/`countdown` become a delay and `timelimit` a timeout. Throws
 * {@link CeleryRefusal} with the exception a Celery worker would have reported.
 */
export function toSubmitRequest(
  message: CeleryTaskMessage,
  task: RegisteredTask | undefined,
  owner: string,
  now = Date.now(),
): SubmitRequest {
  if (!task) {
    throw new CeleryRefusal(
      'NotRegistered',
      `'${message.task}': the task service has no task of this name (GET /tasks/registered lists them)`,
    );
  }
  if (!UUID.test(message.id)) {
    throw new CeleryRefusal(
      'ValueError',
      `Task id ${message.id} is not a UUID; the task service keeps Celery's uuid4 ids`,
    );
  }
  if (message.workflow.length > 0) {
    throw new CeleryRefusal(
      'NotImplementedError',
      `Celery canvas (${message.workflow.join(', ')}) is not supported by the task service yet; call the tasks one by one`,
    );
  }
  const { definition } = task;
  const signature = definition.celery ? parseSignature(definition.celery) : keywordOnly(definition.name);
  let payload: Record<string, unknown>;
  try {
    payload = bindCall(signature, message.args, message.kwargs, definition.acceptsAnyArgs);
  } catch (error) {
    if (error instanceof CeleryCallError) throw new CeleryRefusal('TypeError', error.message);
    throw error;
  }
  if (!definition.acceptsAnyArgs) {
    const { errors } = validatePayload(definition.payload, payload, 'args', true);
    if (errors.length > 0) throw new CeleryRefusal('ValueError', errors.map((e) => e.message).join('; '));
  }
  const [hard, soft] = message.timelimit;
  const limitS = hard ?? soft;
  const delayMs = message.eta ? message.eta.getTime() - now : 0;
  return {
    id: message.id.toLowerCase(),
    name: definition.name,
    args: payload,
    owner,
    delayMs: delayMs > 0 ? delayMs : undefined,
    priority: message.priority && message.priority > 0 ? message.priority : undefined,
    timeoutMs: limitS ? Math.max(1, Math.round(limitS * 1000)) : undefined,
    parentId: message.parentId && UUID.test(message.parentId) ? message.parentId.toLowerCase() : undefined,
    // Marks the record as a Celery call: its states are mirrored to the result backend.
    requestId: `celery${message.rootId ? ` root=${message.rootId}` : ''}`.slice(0, 100),
  };
}
