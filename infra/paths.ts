import path from 'node:path';

/** The feedloop checkout (or installed package) root: everything shipped lives below it. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const DATA_DIR = path.join(PROJECT_ROOT, 'data');
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'infra', 'migrations');
export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');
