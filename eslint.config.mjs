// Lint rules for the whole repository. TypeScript is linted with type information (each file is
// checked against the tsconfig.json of its workspace), so the rules below see what a value's type
// really is: a promise nobody awaits, an async callback handed to something that ignores its result,
// a value typed `any` leaking out of JSON or an untyped library.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const typeScriptFiles = ['**/*.ts', '**/*.mts', '**/*.cts'];
const testFiles = ['**/*.test.ts', '**/*.suite.ts', '**/testing/**/*.ts', 'test/e2e/**/*.ts', 'test/support/**/*.ts', 'test/peers/**/*.ts'];

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '**/.turbo/**',
      'var/**',
      '**/*.d.ts',
      // generated from contracts/src/events by the docs generator
      'contracts/schemas/**',
      '**/fixtures/**',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  js.configs.recommended,

  {
    files: typeScriptFiles,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // Promises: every promise is awaited, returned, or handed to `void` with a comment saying where its errors go.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true, ignoreIIFE: false }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // An async function without `await` is how this code implements a promise-returning interface
      // (fastify handlers, Kysely's migration provider, fakes of async clients) and turns a throw into
      // a rejection; the real bug, a promise left unawaited inside, is no-floating-promises' job.
      '@typescript-eslint/require-await': 'off',
      // `return promise` inside try/catch/finally skips the catch and runs the finally too early.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'error',

      // `any`: values from JSON, sockets and untyped libraries are checked or typed before use.
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-enum-comparison': 'error',
      '@typescript-eslint/no-unsafe-unary-minus': 'error',
      '@typescript-eslint/no-unsafe-declaration-merging': 'error',
      '@typescript-eslint/no-unsafe-function-type': 'error',

      // Other mistakes that compile.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Spreading a string into code points is deliberate here (SMS parts and text limits must never
      // cut a surrogate pair); spreading a promise, a Map or a class instance is still a mistake.
      '@typescript-eslint/no-misused-spread': ['error', { allow: ['string'] }],
      '@typescript-eslint/no-base-to-string': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true, allowAny: false }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/no-array-delete': 'error',
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/no-deprecated': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-self-compare': 'error',
      'no-template-curly-in-string': 'error',
      'no-unreachable-loop': 'error',
      'no-constructor-return': 'error',
      'no-async-promise-executor': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],

      // Same convention as tsc's noUnusedLocals/noUnusedParameters: a leading underscore marks an intentionally unused name.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },

  {
    // Tests and the fakes they run against. Jest's asymmetric matchers (`expect.any`,
    // `expect.stringMatching`, `expect.objectContaining`) are typed `any` by @types/jest, so putting one
    // in an expected object or passing one to a matcher reads as an unsafe assignment or argument; those
    // two rules are off here. Reading a member of an `any` value (an untyped JSON answer) is still an
    // error, and so is everything about promises (floating, misused, awaited): an unawaited promise in
    // a test is a test that passes without checking anything.
    files: testFiles,
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },

  {
    // Plain JavaScript: jest configs and this file. CommonJS except for .mjs; no type information.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: globals.node, sourceType: 'commonjs' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
);
