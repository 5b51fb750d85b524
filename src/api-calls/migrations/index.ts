import { CreateApiCalls1764500000610 } from './1764500000610-create-api-calls';

export const apiCallsMigrations = [CreateApiCalls1764500000610];
