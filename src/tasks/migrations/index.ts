import { CreateTaskRuns1764300000000 } from './1764300000000-create-task-runs';
import { AddTaskRunsEnqueuedAt1765000000000 } from './1765000000000-add-task-runs-enqueued-at';

export const tasksMigrations = [CreateTaskRuns1764300000000, AddTaskRunsEnqueuedAt1765000000000];
