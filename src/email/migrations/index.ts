import { CreateEmailTables1764500000000 } from './1764500000000-create-email-tables';

export const emailMigrations = [CreateEmailTables1764500000000];
