import { describeFaultScenario } from './fault-spec';

describeFaultScenario('rollout', 'each worker SIGTERMed and restarted in turn, twice, then the API');
