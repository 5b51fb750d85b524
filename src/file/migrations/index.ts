export const fileMigrations: Function[] = [];
