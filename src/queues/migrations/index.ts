export const queuesMigrations: Function[] = [];
