/**
 * Build of the web UI: `npm run build:web` writes web/dist, which `steward up` and `steward
 * server` serve at `/`. Routes are lazy chunks, so the first page loads only what it shows.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  // JSX through the automatic runtime (Vite's oxc transform): no Babel plugin for a production build.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The budget is checked by scripts/web-size.ts; this only silences Vite's generic warning.
    chunkSizeWarningLimit: 400,
    rollupOptions: {
      // react-router marks its modules "use client" (for server components); meaningless in an SPA bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    // `npm run dev:web` against a `steward up` on 8080.
    proxy: { '/api': 'http://127.0.0.1:8080', '/healthz': 'http://127.0.0.1:8080' },
  },
});
