import { CreateTaskRuns1764300000000 } from './1764300000000-create-task-runs';
import { AddTaskRunsEnqueuedAt1765000000000 } from './1765000000000-add-task-runs-enqueued-at';
import { CreateTaskRunRollups1765100000000 } from './1765100000000-create-task-run-rollups';
import { OrderTaskRunsParent1765200000000 } from './1765200000000-order-task-runs-parent';
import { PartitionTaskRuns1765300000000 } from './1765300000000-partition-task-runs';

export const tasksMigrations = [
  CreateTaskRuns1764300000000,
  AddTaskRunsEnqueuedAt1765000000000,
  CreateTaskRunRollups1765100000000,
  OrderTaskRunsParent1765200000000,
  PartitionTaskRuns1765300000000,
];
