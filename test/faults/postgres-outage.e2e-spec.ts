import { describeFaultScenario } from './fault-spec';

describeFaultScenario('postgres', 'PostgreSQL stopped mid-load, then started');
