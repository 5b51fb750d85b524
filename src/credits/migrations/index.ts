import { CreateCredits1764400000000 } from './1764400000000-create-credits';

export const creditsMigrations = [CreateCredits1764400000000];
