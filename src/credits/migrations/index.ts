export const creditsMigrations: Function[] = [];
