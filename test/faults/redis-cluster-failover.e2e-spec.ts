import { describeFaultScenario } from './fault-spec';

describeFaultScenario(
  'redisCluster',
  'Redis Cluster master SIGKILLed mid-load; its replica takes over and nothing is lost',
);
