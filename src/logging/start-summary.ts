import { INestApplication, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { allQueues, describeTransport } from '../tasks/queues/queue-transport';
import { TaskRegistry } from '../tasks/task-registry.service';

/**
 * The two lines an operator checks after a start (the old guide's "验证启动": every task module
 * imported, the worker on its broker, the key tasks registered): what this process is (role,
 * store, transport, the queues it consumes with their concurrency, its port) and which tasks
 * are registered on which queue.
 */
export function logStartSummary(app: INestApplication, config: AppConfig, store: string, port: number): void {
  const logger = new Logger('Bootstrap');
  const consumed = config.runsWorkers ? config.workerQueues(allQueues(config)) : [];
  const queues = consumed.map((name) => ({ name, concurrency: config.concurrencyFor(name) }));
  const transport = describeTransport(config);
  const consuming = queues.length
    ? `consumes ${queues.map((q) => `${q.name}(${q.concurrency})`).join(', ')}`
    : 'consumes no queue';
  const http = config.runsApi ? `listening on :${port}` : `workers running; health and metrics on :${port}`;
  logger.log({
    msg: `Role ${config.role}: ${http}; store: ${store}; transport: ${transport}; ${consuming}`,
    role: config.role,
    port,
    store,
    transport,
    queues,
  });
  const byQueue: Record<string, string[]> = {};
  for (const task of app.get(TaskRegistry).all()) (byQueue[task.queue] ??= []).push(task.definition.name);
  const listed = Object.entries(byQueue)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([queue, names]) => `${queue}: ${names.join(', ')}`)
    .join('; ');
  logger.log({
    msg: `Registered ${Object.values(byQueue).flat().length} tasks by queue: ${listed}`,
    tasks: byQueue,
  });
}
