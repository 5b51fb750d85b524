import { CreateTaskRuns1764300000000 } from './1764300000000-create-task-runs';

export const tasksMigrations = [CreateTaskRuns1764300000000];
