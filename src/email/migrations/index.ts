export const emailMigrations: Function[] = [];
