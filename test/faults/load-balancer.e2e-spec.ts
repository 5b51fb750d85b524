import { describeFaultScenario } from './fault-spec';

// nginx must be installed (Debian's nginx-light; .ci/run installs it): see deploy/nginx/README.md.
describeFaultScenario('loadBalancer', '2 API and 3 worker processes behind nginx, each restarted in turn, twice');
