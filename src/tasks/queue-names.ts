/** The queues of the old Celery system, kept by name so dashboards and runbooks still apply. */
export const QueueName = {
  FILE: 'file_tasks',
  EXPORT: 'export',
  EMAIL: 'email_tasks',
  API: 'api_calls',
  CREDITS: 'credits',
  DEFAULT: 'default',
} as const;

export const KNOWN_QUEUES: readonly string[] = Object.values(QueueName);
