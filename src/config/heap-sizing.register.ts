import { holdHeapDuringStart } from './heap-sizing';

// Imported by main.ts right after the Node version check: the young generation must be held
// before the first module loads (loading is what would grow it).
holdHeapDuringStart();
