import { DEFAULT_ROUTES, TaskRouter } from './task-routes';

describe('TaskRouter', () => {
  const sut = new TaskRouter(DEFAULT_ROUTES);

  it.each([
    ['tasks.file.process_file', 'file_tasks'],
    ['tasks.file.analyze_file', 'file_tasks'],
    ['tasks.file.export_file', 'export'],
    ['tasks.email.send_email', 'email_tasks'],
    ['tasks.api.call', 'api_calls'],
    ['tasks.credits.consume', 'credits'],
    ['tasks.stats.daily_report', 'default'],
    ['tasks.system.noop', 'default'],
    ['tasks.filex.other', 'default'],
  ])('routes %s to %s', (name, queue) => {
    expect(sut.queueFor(name)).toBe(queue);
  });

  it('prefers an exact name, then the most specific glob', () => {
    const router = new TaskRouter({ 'tasks.*': 'broad', 'tasks.report.*': 'reports', 'tasks.report.big': 'big' });
    expect(router.queueFor('tasks.report.big')).toBe('big');
    expect(router.queueFor('tasks.report.small')).toBe('reports');
    expect(router.queueFor('tasks.other')).toBe('broad');
    expect(router.queues().sort()).toEqual(['big', 'broad', 'default', 'reports']);
  });

  it('treats dots literally', () => {
    expect(new TaskRouter({ 'tasks.a.*': 'q' }).queueFor('tasksXaXb')).toBe('default');
  });
});
