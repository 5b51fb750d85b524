import { describeFaultScenario } from './fault-spec';

describeFaultScenario('sigkill', 'one worker SIGKILLed every few seconds');
