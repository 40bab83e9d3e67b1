import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The ports: one interface per file (docs/ARCHITECTURE.md). */
export const PORT_FILES = [
  'src/core/ports.ts',
  'src/core/journal/journal.ts',
  'src/db/database.ts',
  'src/migrations/migrator.ts',
  'src/notify/port.ts',
  'src/notify/channel.ts',
  'src/fleet/fleet.ts',
  'src/clone/cloner.ts',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'oclif.manifest.json',
      'test/fixtures/**',
      'bench/.work/**',
      'bench/peers/node_modules/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['bin/**', 'bench/**', 'test/**', 'scripts/**'], rules: { 'no-console': 'off' } },
  // Boundaries (docs/ARCHITECTURE.md). The core is what both hosts call: it never reaches into a
  // host (commands, the CLI's base, renderers). A port file declares an interface: it imports
  // types only (and the error classes its contract throws), never an implementation.
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/commands/**', '**/cli/**', '**/output/**', '**/agent/**'],
              message:
                'src/core must not import a host (commands, cli, output, agent): emit a coded event or return data, and let the host render it.',
            },
          ],
        },
      ],
    },
  },
  {
    // maint/browser runs in web pages: no Node built-ins, nothing of the CLI.
    files: ['src/browser/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', '../*', 'fs', 'path', 'os', 'crypto', 'http', 'child_process'],
              message:
                'src/browser is browser code: no Node built-ins and no imports from the rest of maint.',
            },
          ],
        },
      ],
    },
  },
  {
    files: PORT_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['./*', '../*', '../../*', '!**/errors.js', '!**/hints.js'],
              allowTypeImports: true,
              message: 'A port file imports types only (use `import type`), never an implementation.',
            },
          ],
        },
      ],
    },
  },
);
