import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// Two pages: index.html is the chat app for people (/), console.html the console for businesses (/console).
// The api serves web/dist itself (src/bootstrap/http-app.ts); `vite --config web/vite.config.ts` proxies to it in development.
const here = dirname(fileURLToPath(import.meta.url));
const api = process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:3000';
const apiPaths = ['/auth', '/me', '/apps', '/pages', '/threads', '/events', '/v25.0', '/health'];

export default defineConfig({
  root: here,
  base: '/',
  plugins: [preact()],
  build: {
    outDir: resolve(here, 'dist'),
    emptyOutDir: true,
    rollupOptions: {
      input: { chat: resolve(here, 'index.html'), console: resolve(here, 'console.html') },
    },
  },
  server: {
    proxy: Object.fromEntries([
      ...apiPaths.map((p) => [p, { target: api }]),
      ['/ws', { target: api.replace(/^http/, 'ws'), ws: true }],
    ]),
  },
});
