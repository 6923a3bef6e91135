import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/temp-dir';

// Every test file removes the temp dirs it made (test/helpers/temp-dir.ts).
afterAll(() => removeTempDirs());
