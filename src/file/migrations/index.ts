import { CreateFiles1764300001000 } from './1764300001000-create-files';

export const fileMigrations = [CreateFiles1764300001000];
