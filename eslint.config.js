import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'web/dist/**', '.steward/**', 'bench/.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Module boundaries (docs/architecture.md): contracts import only zod; platform never
    // imports features; the CLI and sdk never touch the database or the server; the sdk is
    // contracts and its own code only, and outside sdk/node it runs wherever fetch does.
    files: ['src/contracts/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../*', '!./*', 'kysely', 'fastify'] }] },
  },
  {
    files: ['src/platform/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/features/**', '**/server/**', '**/cli/**'] }] },
  },
  {
    // Upstream model servers are called through the one OpenAI-compatible client
    // (platform/openai: timeouts, retries, SSE decoding), not through undici by hand.
    files: ['src/features/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'undici', message: 'call OpenAI-compatible upstreams through src/platform/openai/openai-client.ts' }] }] },
  },
  {
    // A runtime runs alone in its child process: nothing of the control plane comes with it.
    files: ['src/runtimes/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/features/**', '**/server/**', '**/cli/**', '**/platform/sql/**', '**/platform/blob/**', 'kysely', 'better-sqlite3', 'pg', 'fastify'] }] },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/features/**', '**/platform/sql/**', '**/platform/blob/**', 'kysely', 'better-sqlite3', 'pg'] }] },
  },
  {
    files: ['src/sdk/node/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/features/**', '**/platform/**', '**/server/**', '**/cli/**', 'kysely', 'better-sqlite3', 'pg', 'fastify'] }] },
  },
  {
    files: ['src/sdk/**/*.ts'],
    ignores: ['src/sdk/node/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/features/**', '**/platform/**', '**/server/**', '**/cli/**', '**/node/**', 'node:*', 'kysely', 'better-sqlite3', 'pg', 'fastify'] }] },
  },
  {
    // The web UI is a client of the API through the SDK (browser-safe: no sdk/node), and takes
    // only types from the contracts: their zod schemas would come into the bundle with them.
    files: ['web/src/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\.\\./)+src/(features|platform|server|cli|gateway|runtimes|sdk/node)/', message: 'the web UI reaches the server only through the SDK (src/sdk, not sdk/node)' },
            { regex: '^(\\.\\./)+src/contracts/(?!asset-names)', allowTypeImports: true, message: 'contracts bring zod into the bundle: import their types only' },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
