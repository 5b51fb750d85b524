/**
 * Idle RSS of one service process per role and queue set (Redis transport), sampled 8 s after
 * start: which roles and queues cost the memory.
 * Usage: node -r @swc-node/register bench/idle-rss.ts   (after `npx nest build`)
 */
import { idleWorkerRssMb } from './pipeline-run';
import { createBenchDatabase, fmt, machineLoad, REDIS_URL } from './support';

const CASES: [role: string, queues: string][] = [
  ['worker', ''],
  ['worker', 'default'],
  ['worker', 'file_tasks'],
  ['worker', 'email_tasks'],
  ['worker', 'credits'],
  ['api', ''],
  ['all', ''],
];

async function main() {
  const database = await createBenchDatabase();
  try {
    console.log(machineLoad());
    const target = { databaseUrl: database.url, redisUrl: REDIS_URL };
    for (const [role, queues] of CASES) {
      const rss = await idleWorkerRssMb(target, queues, role);
      console.log(`${role.padEnd(7)} ${(queues || 'all queues').padEnd(12)} ${fmt(rss, 1).padStart(7)} MB`);
    }
  } finally {
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
