export const statsMigrations: Function[] = [];
