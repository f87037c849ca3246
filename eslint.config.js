import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'test-output/**', 'bench/tmp-probe/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it return promises that the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // Layering (docs/architecture.md): the core knows no country, transport or database; a market reaches
  // storage only through the ports the composition root hands it. Type imports count too: a type from
  // storage/ in a market is the same coupling.
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/markets', '**/markets/**', '**/api', '**/api/**', '**/storage', '**/storage/**'],
              message: 'core/ depends on no market, API surface or storage: declare a port in core/ instead.',
            },
            {
              group: ['**/jobs/**', '**/cli/**', '**/runtime.ts', '**/v1-runtime.ts', '**/config.ts'],
              message: 'core/ is the innermost layer: the outer layers import it, never the other way.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/markets/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/storage', '**/storage/**'],
              message:
                "markets/ never imports storage/: a module's store takes the ModuleDatabase that its `stores` part is given.",
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read arbitrary JSON answers from the API; typing every probe would only restate the assertions.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)
