// ESLint with the TypeScript rules (typescript-eslint's recommended set); formatting is
// prettier's job (.prettierrc.json). `npm run lint` runs both, and `npm test` runs lint first.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', NodeJS: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', fetch: 'readonly', queueMicrotask: 'readonly'},
    },
    rules: {
      // Unused names are errors, except the ones that say they are unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none'}],
      // A variable read by a closure before its one assignment (a socket, a child process) stays `let`.
      'prefer-const': ['error', {ignoreReadBeforeAssign: true}],
      // Tests match terminal escape codes on purpose.
      'no-control-regex': 'off',
      'max-len': ['error', {code: 160, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true, ignoreComments: false}],
    },
  },
  {
    // Functions stay short enough to read at once (issue 10); a longer one says why on the line before.
    files: ['src/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'test/env/**/*.ts', 'test/helpers/**/*.ts'],
    rules: {'max-lines-per-function': ['error', {max: 80, skipBlankLines: true, skipComments: true, IIFEs: true}]},
  },
)
