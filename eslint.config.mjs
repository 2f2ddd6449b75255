// ESLint flat config: ESLint's and typescript-eslint's recommended rules, syntax only (no type information, so
// `npm run lint` stays fast). Formatting is prettier's job (.prettierrc.json).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    'dist/',
    'assets/handlers/',
    '**/cdk.out/',
    '**/cdktf.out/',
    'scratch-tmp/',
    'coverage/',
    'docs/api/',
    '.celery-tls/',
    // Generated from lib/cdktf and examples/cdktf by scripts/gen-cdktn.mjs (not committed).
    'lib/cdktn/',
    'examples/cdktn/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // Leaving fields out by destructuring ({ secret: _secret, ...rest }) is how the code drops them.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          ignoreRestSiblings: true,
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      // `interface XProps extends XOptions {}` names a public props type; jest's Matchers merge by declaration.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    // Lambda handlers load the AWS SDK of the Node.js Lambda runtime lazily, so that tests never load it.
    files: ['lib/handlers/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': ['error', { allow: ['^@aws-sdk/'] }] },
  },
  {
    // Plain JavaScript: jest configs and the esbuild transform (CommonJS), scripts and benches (ES modules), on Node.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests build deliberately malformed inputs and poke at synthesized JSON.
    files: ['test/**/*.ts', 'examples/testing/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
