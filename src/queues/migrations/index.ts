import { CreateWorkerHeartbeats1764300000900 } from './1764300000900-create-worker-heartbeats';

export const queuesMigrations = [CreateWorkerHeartbeats1764300000900];
