import { describeFaultScenario } from './fault-spec';

describeFaultScenario('redis', 'Redis stopped mid-load (submits keep getting 202), then started empty');
