import { describeFaultScenario } from './fault-spec';

describeFaultScenario(
  'sentinel',
  'Redis Sentinel master SIGKILLed mid-load; the replica takes over and nothing is lost',
);
