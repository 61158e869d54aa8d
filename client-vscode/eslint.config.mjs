// ESLint (flat config): typescript-eslint's type-checked rules on src/ and test/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.e2e/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      eqeqeq: 'error',
      curly: 'error',
      'no-console': 'error',
    },
  },
  {
    // node:test's describe/it return promises the runner awaits
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['media/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', mermaid: 'readonly', acquireVsCodeApi: 'readonly' },
    },
  },
  {
    // the end-to-end driver: Node, plus browser code inside page.evaluate()
    files: ['test/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { document: 'readonly', module: 'writable' } },
  },
  {
    files: ['scripts/**/*.mjs', 'test/**/*.js', 'eslint.config.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', require: 'readonly', __dirname: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' },
    },
  },
);
