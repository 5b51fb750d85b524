/**
 * Keys the service writes itself start with this prefix, which caller keys may not use: a
 * caller cannot pre-empt the expiry of a grant or pose as another task.
 */
export const SYSTEM_KEY_PREFIX = 'sys:';

export const systemKey = (name: string) => `${SYSTEM_KEY_PREFIX}${name}`;

/** The ledger key of an operation: the caller's key, else the task id (so a redelivery is a repeat). */
export function ledgerKey(callerKey: string | undefined, taskId: string): string {
  return callerKey ?? systemKey(`task:${taskId}`);
}
