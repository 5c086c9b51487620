import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'reports/', '.stryker-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { 'no-restricted-properties': ['error',
      { object: 'it', property: 'only', message: 'no focused tests' },
      { object: 'describe', property: 'only', message: 'no focused tests' },
      { object: 'test', property: 'only', message: 'no focused tests' }] },
  },
);
