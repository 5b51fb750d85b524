import { TaskError } from '../tasks/records/entities/task-run.entity';

/** The states Celery callers see in the result backend. */
export type CeleryState = 'STARTED' | 'RETRY' | 'SUCCESS' | 'FAILURE' | 'REVOKED';

/** An exception as Celery's JSON result serializer stores it; `AsyncResult` rebuilds it. */
export interface CeleryException {
  exc_type: string;
  exc_message: unknown[];
  exc_module: string | null;
}

/**
 * Our error types mapped to exceptions Celery's reader can import: builtins and
 * `celery.exceptions`. Other names keep their own name with no module; Celery then makes up a
 * class of that name, so `except` on the name still reads naturally, and never a SecurityError
 * (which a module that exists but has no such exception class would cause).
 */
const KNOWN: Record<string, Pick<CeleryException, 'exc_type' | 'exc_module'>> = {
  TaskTimeoutError: { exc_type: 'TimeoutError', exc_module: 'builtins' },
  TaskRevokedError: { exc_type: 'TaskRevokedError', exc_module: 'celery.exceptions' },
  NotRegistered: { exc_type: 'NotRegistered', exc_module: 'celery.exceptions' },
  TypeError: { exc_type: 'TypeError', exc_module: 'builtins' },
  ValueError: { exc_type: 'ValueError', exc_module: 'builtins' },
  NotImplementedError: { exc_type: 'NotImplementedError', exc_module: 'builtins' },
  Error: { exc_type: 'Exception', exc_module: 'builtins' },
  UnrecoverableError: { exc_type: 'Exception', exc_module: 'builtins' },
  ContentDisallowed: { exc_type: 'ContentDisallowed', exc_module: 'kombu.exceptions' },
  DatabaseUnavailable: { exc_type: 'ConnectionError', exc_module: 'builtins' },
};

export function celeryException(type: string, message: string): CeleryException {
  const known = KNOWN[type];
  if (known) return { ...known, exc_message: [message] };
  // A Python identifier, so Celery can name the class it makes up.
  const name = type.replace(/\W/g, '_').replace(/^(\d)/, '_$1') || 'Exception';
  return { exc_type: name, exc_message: [message], exc_module: null };
}

export function exceptionOf(error: TaskError | null | undefined): CeleryException {
  return celeryException(error?.type ?? 'Error', error?.message ?? 'The task failed');
}

/** The `celery-task-meta-<id>` document of Celery's Redis result backend. */
export function resultMeta(
  id: string,
  state: CeleryState,
  result: unknown,
  traceback: string | null = null,
  parentId: string | null = null,
): Record<string, unknown> {
  const ready = state === 'SUCCESS' || state === 'FAILURE' || state === 'REVOKED';
  return {
    status: state,
    result: result ?? null,
    traceback,
    children: [],
    // Celery writes naive UTC ISO times with microseconds.
    date_done: ready ? new Date().toISOString().replace('Z', '000') : null,
    ...(parentId ? { parent_id: parentId } : {}),
    task_id: id,
  };
}
