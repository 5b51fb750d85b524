import { CreateApiCalls1764500000610 } from './1764500000610-create-api-calls';
import { CreateApiCallHostPermits1764500000620 } from './1764500000620-create-api-call-host-permits';

export const apiCallsMigrations = [CreateApiCalls1764500000610, CreateApiCallHostPermits1764500000620];
