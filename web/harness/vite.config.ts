import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The component harness (test/e2e/web-components.e2e.ts builds it into a temporary directory with --outDir).
// Relative base: the test serves it from wherever it was built.
export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  base: './',
  plugins: [preact()],
  logLevel: 'warn',
  // node_modules is shared between worktrees: keep vite's cache out of it.
  cacheDir: join(tmpdir(), 'sb-harness-vite'),
  build: { emptyOutDir: true, minify: false },
});
