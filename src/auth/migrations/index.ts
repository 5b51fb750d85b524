import { CreateApiKeys1764300000100 } from './1764300000100-create-api-keys';

export const authMigrations = [CreateApiKeys1764300000100];
