export const apiCallsMigrations: Function[] = [];
