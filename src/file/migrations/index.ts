import { CreateFiles1764300001000 } from './1764300001000-create-files';
import { CreateFileExportsImports1764900000900 } from './1764900000900-create-file-exports-imports';

export const fileMigrations = [CreateFiles1764300001000, CreateFileExportsImports1764900000900];
