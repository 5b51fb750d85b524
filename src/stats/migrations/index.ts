import { CreateStats1764500000710 } from './1764500000710-create-stats';

export const statsMigrations = [CreateStats1764500000710];
