import { declaredTasks } from '../task-definition';
import { TaskRouter } from './task-routes';
import '../../api-calls/api-calls.tasks';
import '../../credits/credits.tasks';
import '../../email/email.tasks';
import '../../file/file.tasks';
import '../../stats/stats.tasks';
import '../system/system.tasks';

/** The old system's `task_routes`, as its operations guide prints them. */
const SEED_TASK_ROUTES = {
  'tasks.file.*': 'file_tasks',
  'tasks.email.*': 'email_tasks',
  'tasks.api.*': 'api_calls',
  'tasks.credits.*': 'credits',
  'tasks.file.export_file': 'export',
};

describe('TaskRouter', () => {
  it('on a fresh start (no TASK_ROUTES) sends every declared task where the seed routing table did', () => {
    const sut = new TaskRouter({});
    const seed = new TaskRouter(SEED_TASK_ROUTES);
    const tasks = declaredTasks();
    expect(tasks.length).toBeGreaterThan(10);
    for (const task of tasks) {
      const route = sut.resolve(task.name, task.queue);
      expect({ name: task.name, queue: route.queue, source: route.source }).toEqual({
        name: task.name,
        queue: seed.resolve(task.name).queue,
        source: 'declared',
      });
    }
  });

  it('lets an operator route override the declared queue, and says which route did it', () => {
    const sut = new TaskRouter({ 'tasks.file.*': 'bulk' });
    expect(sut.resolve('tasks.file.process_file', 'file_tasks')).toEqual({
      queue: 'bulk',
      source: 'TASK_ROUTES tasks.file.*',
    });
    expect(sut.resolve('tasks.email.send_email', 'email_tasks')).toEqual({ queue: 'email_tasks', source: 'declared' });
  });

  it('prefers an exact name, then the most specific glob', () => {
    const sut = new TaskRouter({ 'tasks.*': 'broad', 'tasks.report.*': 'reports', 'tasks.report.big': 'big' });
    expect(sut.resolve('tasks.report.big').queue).toBe('big');
    expect(sut.resolve('tasks.report.small').queue).toBe('reports');
    expect(sut.resolve('tasks.other').queue).toBe('broad');
    expect(sut.queues().sort()).toEqual(['big', 'broad', 'reports']);
  });

  it('treats dots literally', () => {
    expect(new TaskRouter({ 'tasks.a.*': 'q' }).resolve('tasksXaXb', 'default')).toEqual({
      queue: 'default',
      source: 'declared',
    });
  });
});
