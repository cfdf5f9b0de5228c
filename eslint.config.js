// The house rules as a tool. Type-aware rules catch promises left floating (a send or a ledger
// write nobody waits for); the import rules keep the layers apart: the pipeline knows nothing of
// Temporal or the CLI, and workflows import only types and pure helpers (they run in Temporal's
// deterministic sandbox).
import tseslint from 'typescript-eslint';

const entryPoints = ['**/client/**', '**/server/**', '**/dev/**', '**/worker/**', '**/bin/**'];

export default tseslint.config(
  { ignores: ['node_modules/', '.mailroom/', 'dist/', 'coverage/', 'bench/.data/', 'test/fixtures/'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-duplicate-imports': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['pipeline/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@temporalio/*'],
              message: 'the pipeline knows nothing of Temporal: put Temporal code in activities/ or workflows/',
            },
            {
              group: [...entryPoints, '**/activities/**', '**/workflows/**'],
              message:
                'the pipeline is below the entry points, activities and workflows: import from pipeline/, config/ or db/ only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['config/**/*.ts', 'db/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...entryPoints, '**/activities/**', '**/workflows/**', '**/pipeline/**'],
              message: 'config/ and db/ are the bottom layer: they import nothing of the rest',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: entryPoints, message: 'activities are below the entry points (client, server, dev, worker)' },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/(workflow|common)$|\\./)',
              allowTypeImports: true,
              message:
                'workflows run in a deterministic sandbox: import only types, @temporalio/workflow and other workflow files',
            },
          ],
        },
      ],
    },
  },
);
