import { refuseOldNode } from './required-node';

// Imported first by main.ts and cli.ts: the check runs before any dependency loads.
refuseOldNode();
