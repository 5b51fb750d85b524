/** Celery's state vocabulary, which callers of the old system already poll for. */
export enum TaskState {
  PENDING = 'PENDING',
  STARTED = 'STARTED',
  RETRY = 'RETRY',
  SUCCESS = 'SUCCESS',
  FAILURE = 'FAILURE',
  REVOKED = 'REVOKED',
}

export const FINAL_STATES: readonly TaskState[] = [TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED];
export const OPEN_STATES: readonly TaskState[] = [TaskState.PENDING, TaskState.STARTED, TaskState.RETRY];

export function isFinal(state: TaskState): boolean {
  return FINAL_STATES.includes(state);
}
