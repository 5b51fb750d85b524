// House style, enforced by tools: typescript-eslint's type-aware rules for correctness
// (no floating promises, no unused code), Prettier for layout (eslint-config-prettier turns
// off the rules that would fight it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', '.test-build/', '.data/', 'coverage/', 'test-artifacts/', 'node_modules/', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      // Sanitisers match control characters on purpose.
      'no-control-regex': 'off',
      // A Nest logger is named after its class: `new Logger(X.name)`, never a string literal.
      'no-restricted-syntax': [
        'error',
        {
          selector: "PropertyDefinition > NewExpression[callee.name='Logger'] > Literal:first-child",
          message: 'Name a logger after its class: new Logger(ClassName.name).',
        },
      ],
    },
  },
  prettier,
);
