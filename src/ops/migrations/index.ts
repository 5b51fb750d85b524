import { CreateWorkerHeartbeats1764300000900 } from './1764300000900-create-worker-heartbeats';

export const opsMigrations = [CreateWorkerHeartbeats1764300000900];
